"""Data stage: the synthetic PTB-XL generator and PTB-XL ingestion (records, beats, windows)."""
