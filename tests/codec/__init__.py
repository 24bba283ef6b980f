"""Tests for the signed pass format (passtrace.codec)."""
