"""The strands model the prompt path and model-driven task kinds use.

``BedrockModel(model_id=AGENT_MODEL_ID)`` unless ``AGENT_MODEL_FACTORY`` names a ``module:function``
returning a ``strands.models.Model`` (tests use it to run a scripted model offline through the real
agent loop). strands is imported only when a model is first needed.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from agent.settings import Settings


@functools.cache
def load_model(settings: Settings) -> Any:
    """The configured model, built once per process."""
    if settings.model_factory:
        module_name, _, attribute = settings.model_factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        return factory(settings)
    from strands.models.bedrock import BedrockModel  # noqa: PLC0415 - only in production

    return BedrockModel(model_id=settings.model_id)
