"""agentcore-async: durable, asynchronous agent tasks on Amazon Bedrock AgentCore Runtime.

``agentcore_async.client`` is the client library and CLI, ``agentcore_async.contract`` the rules the
client, the agent and the stacks share (standard library only)."""
