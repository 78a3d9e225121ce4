"""ssot: Supabase-as-single-source-of-truth platform as code, and its doctrine auditor."""

__version__ = "0.1.0"
