"""The model room: what the documented API promises, as pure data and functions (no HTTP, no
pytest), and the linearizability check of concurrent histories against such a model."""
