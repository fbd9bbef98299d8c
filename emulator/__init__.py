"""A local AgentCore Runtime: sessions, microVMs and their lifecycle timers, offline.

It serves the data-plane REST API of the ``bedrock-agentcore`` service on loopback, so an
unmodified ``boto3.client("bedrock-agentcore", endpoint_url=...)`` reaches it.
"""
