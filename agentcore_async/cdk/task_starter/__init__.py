"""The example state machine's Lambda handler, deployed inline (``index.py``)."""
