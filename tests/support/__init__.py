"""Test support: throwaway PostgreSQL cluster, database templates, factories."""
