from . import statement_import
