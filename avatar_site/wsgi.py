import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_site.settings")
application = get_wsgi_application()

# Import every view now, then freeze what start-up made: it lives as long as the process, and
# unfrozen every full garbage collection that requests trigger walks all ~100 000 objects, holding
# the GIL (and so all of the worker's threads) for ~80 ms on a 2-core VM; frozen, ~17 ms.
get_resolver().url_patterns  # noqa: B018
gc.collect()
gc.freeze()
