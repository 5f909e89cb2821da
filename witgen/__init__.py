"""witgen: a WIT-driven code generator and SDK factory for DataFlare plugins."""

__version__ = "0.1.0"
