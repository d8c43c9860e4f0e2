"""A progress callback that ignores progress: the benchmarks call engines outside a task."""


class SilentProgress:
    def __call__(self, percent, message=None):
        pass

    def scaled(self, start, end):
        return self

    def log(self, line):
        pass

    def should_cancel(self, force=False):
        return False

    def check_cancelled(self, force=False):
        pass
