"""How a job ends other than by returning: raised by job and engine code, handled by the runner."""

from __future__ import annotations


class JobCancelled(Exception):
    """The task was asked to stop (a user's cancel, the admin): the job unwinds and ends cancelled."""


class JobFailed(Exception):
    """A failure with a message meant for the user (bad input, engine error).

    ``http_status`` is what a synchronous request that waited for the job answers with.
    """

    http_status = 422

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status
