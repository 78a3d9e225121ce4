from . import sync_job
