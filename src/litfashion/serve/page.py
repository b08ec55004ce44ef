"""The web page at ``/``: pick or drop an image, see it and its top-5 classes as bars. One self-contained HTML
file (``page.html``, package data): no CDN, nothing from the network."""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def page_html() -> str:
    return files("litfashion.serve").joinpath("page.html").read_text(encoding="utf-8")


def add_page(app: FastAPI) -> None:
    """Serve the page at ``/``, in place of LitServe's own ``GET /`` (a plain "litserve running")."""
    html = page_html()
    app.router.routes = [route for route in app.router.routes if getattr(route, "path", None) != "/"]

    async def page() -> HTMLResponse:
        return HTMLResponse(html)

    app.add_api_route("/", page, methods=["GET"], response_class=HTMLResponse, include_in_schema=False)
