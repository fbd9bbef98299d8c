"""Lambda code of the custom resource that builds the agent image during a deploy."""
