"""Models of the assistant: embedder lookup, the extractive reader, the source taggers, training."""
