"""Per-application state and the bridge from handlers to the blocking store."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from asyncclient.artifacts import ArtifactRepository
from asyncclient.server.config import ServerConfig
from asyncclient.store.base import TrackingStore

T = TypeVar("T")

CONFIG = web.AppKey("config", ServerConfig)
STORE = web.AppKey("store", TrackingStore)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
ARTIFACT_REPO = web.AppKey("artifact_repo", ArtifactRepository)


async def in_thread(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (SQLAlchemy, file IO) in the app's thread pool so the loop keeps serving."""
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], call)


async def store_call(request: web.Request, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``TrackingStore.<method>`` off the event loop."""
    return await in_thread(request, getattr(request.app[STORE], method), *args, **kwargs)
