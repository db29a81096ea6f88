"""The model cache (``vidgen models``): which models the settings refer to (registry), what
the Hugging Face cache holds (hf_cache), whether its files are intact (verify), and getting
them (download). Pure logic apart from the cache's files and the hub; no torch, no Ray."""
