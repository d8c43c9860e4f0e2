"""OpenAPI post-processing: the error answers every endpoint can give, and the job endpoints' 202."""

from __future__ import annotations

ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "Not authenticated",
    "403": "Not allowed (CSRF or permissions)",
    "404": "Not found",
    "409": "Conflict",
    "413": "Upload too large",
    "415": "Not usable media",
    "422": "Media or text that cannot be processed",
    "502": "An upstream service gave a bad answer",
    "503": "An engine or service is unavailable",
    "504": "An upstream service timed out",
}
JOB_PATHS = {"/video_generation", "/audio_clone", "/chat_system"}
FILE_PATHS = {"/video/{filename}", "/media/{path}"}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["error"]}, "message": {"type": "string"}},
        "required": ["status", "message"],
    }
    schemas["Accepted"] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["accepted"]},
            "message": {"type": "string"},
            "task_id": {"type": "string"},
            "task_status": {"type": "string"},
            "status_url": {"type": "string", "description": "poll it: /api/tasks/{task_id}"},
        },
        "required": ["status", "message", "task_id", "task_status", "status_url"],
    }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    accepted = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(code, {**error, "description": description})
            if path in JOB_PATHS and method == "post" and "200" in responses:
                responses.setdefault("202", {**accepted, "description": "Queued or still running; poll status_url"})
            if path in FILE_PATHS:
                responses.setdefault("206", {**responses["200"], "description": "Partial content (Range)"})
                responses.setdefault("416", {"description": "Range not satisfiable"})
    return result
