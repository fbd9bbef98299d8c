"""The agent container: an async task engine served on the AgentCore runtime contract."""
