"""Telling the world a task reached a state: an EventBridge event and a Step Functions callback.

Both happen after the state was written, off the request path, and never change the task.
"""
