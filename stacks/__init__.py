"""The CDK app: network, storage, image pipeline and the AgentCore runtime."""
