"""MLflow 3's LoggedModel RPCs (``/mlflow/logged-models``): this server stores no logged models.

The MLflow 3 client searches logged models while listing or downloading run artifacts, so the search
answers "none" (and a get answers 404) instead of a 404 for the route, which would fail the listing;
creating or changing a logged model is a clear ``NOT_IMPLEMENTED``.
"""

from __future__ import annotations

from aiohttp import web

from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from asyncclient.server.protocol import JSON_CONTENT_TYPE, check_content_type, json_response

routes = web.RouteTableDef()


@routes.post("/logged-models/search")
async def search_logged_models(request: web.Request) -> web.Response:
    """``POST logged-models/search`` -> ``{}``: there are no logged models here."""
    check_content_type(request, (JSON_CONTENT_TYPE,))
    return json_response({})


@routes.get("/logged-models/{model_id}")
async def get_logged_model(request: web.Request) -> web.Response:
    """``GET logged-models/<id>`` -> 404 ``RESOURCE_DOES_NOT_EXIST``."""
    raise MlflowException(f"Logged model with ID '{request.match_info['model_id']}' not found.",
                          error_code=RESOURCE_DOES_NOT_EXIST)


async def _unsupported(request: web.Request) -> web.Response:
    raise MlflowException(
        "Logged models (MLflow 3 LoggedModel API) are not supported by the asyncclient server; "
        "log model files as run artifacts instead.",
        error_code="NOT_IMPLEMENTED",
    )


routes.post("/logged-models")(_unsupported)
for _method, _path in (("PATCH", ""), ("DELETE", ""), ("PATCH", "/tags"), ("DELETE", "/tags/{tag_key}"),
                       ("POST", "/params"), ("GET", "/artifacts/directories")):
    routes.route(_method, "/logged-models/{model_id}" + _path)(_unsupported)
