"""Test helpers imported as a package (``from tests.helpers.fashion_data import ...``): data, paths, processes."""
