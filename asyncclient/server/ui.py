"""The browser UI's pages: ``/`` (index.html) and ``/static-files/...`` (built assets in the package).

MLflow serves its React build the same way (``/`` and ``/static-files``), so links printed by MLflow
clients (``http://host:5000/#/experiments/1/runs/<id>``) open here. Every page carries a
Content-Security-Policy with no inline scripts: user strings are rendered as text by the UI, and the CSP
is the second wall should one ever slip through.
"""

from __future__ import annotations

import mimetypes

from aiohttp import web

from asyncclient.ui import STATIC_DIR

routes = web.RouteTableDef()

# blob: for image previews of artifacts (fetched, then shown from an object URL); styles only from files
# (uPlot and the app set element.style through the CSSOM, which CSP does not restrict).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_MISSING = ("The asyncclient UI assets are missing from this installation (asyncclient/ui/static). "
            "Reinstall the package, or build them: cd asyncclient/ui/frontend && npm ci && npm run build")


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    """The single page; routes after ``#`` are the browser's."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        return web.Response(text=_MISSING, status=500, headers=_SECURITY_HEADERS)
    # Not cached: it names the current hashed asset files.
    return web.FileResponse(page, headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache",
                                           "Content-Type": "text/html; charset=utf-8"})


@routes.get("/static-files/{path:.+}")
async def static_file(request: web.Request) -> web.StreamResponse:
    """A built asset; names carry a content hash, so they are cached for a year."""
    root = STATIC_DIR.resolve()
    target = (root / request.match_info["path"]).resolve()
    if root not in target.parents or not target.is_file():  # no escape from the static folder
        raise web.HTTPNotFound()
    mime, _ = mimetypes.guess_type(target.name)
    return web.FileResponse(target, headers={
        **_SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Type": mime or "application/octet-stream"})


def redirect_to_slash(prefix: str):
    """``/prefix`` -> ``/prefix/`` so the page's relative API URLs resolve under the prefix."""
    async def handler(request: web.Request) -> web.Response:
        raise web.HTTPFound(prefix + "/")
    return handler
