"""PassTrace: an epidemic-prevention field platform."""

__version__ = "0.1.0"
