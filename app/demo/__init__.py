"""Synthetic demonstration data: invented families, never real people."""
