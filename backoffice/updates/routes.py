"""The repository's files, served read-only to kiosks (`/v1/updates/metadata/…`,
`/v1/updates/targets/…`). They need no credential: TUF's signatures, not the channel,
are what a kiosk trusts, and a release holds nothing secret."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from backoffice.updates.repository import Repository


def routes(repo: Repository) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/updates/{kind}/{name}", include_in_schema=False)
    def update_file(kind: str, name: str) -> FileResponse:
        try:
            path = repo.file(kind, name)
        except FileNotFoundError:
            raise HTTPException(404, f"no {kind} file {name!r}") from None
        media = "application/json" if kind == "metadata" else "application/octet-stream"
        # metadata changes under the same name (timestamp.json): never from a cache
        return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})

    return router
