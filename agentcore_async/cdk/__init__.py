"""The CDK side of agentcore-async: ``AsyncAgentRuntime`` and the agent image it builds."""
