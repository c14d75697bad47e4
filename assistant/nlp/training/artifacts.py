"""Writing trained models the way the app bundles them: fp16 safetensors in small shards."""

from __future__ import annotations

from pathlib import Path

# Small shards keep every file of a bundled model under the size limits of the places models
# travel through (git hosts, the GPU machine's file return); a single larger tensor (the word
# embeddings, 23 MB in fp16) still gets a shard of its own.
MAX_SHARD = "15MB"


def save_fp16(model, tokenizer, out: Path, share_base_embeddings: bool = False) -> bool:
    """Save ``model`` as fp16 safetensors shards and its tokenizer into ``out``.

    Earlier shards in ``out`` are removed first: left beside the new index (or a single
    ``model.safetensors`` beside new shards) they would be loaded instead of, or mixed with,
    the new weights. The model is moved to the CPU and cast to fp16 in place.

    Args:
        share_base_embeddings: leave the word embeddings out when they are exactly the bundled
            base's (a classifier then loads them from there, see
            ``assistant.nlp.classifier_weights``).

    Returns:
        Whether the word embeddings were left out.
    """
    from assistant.nlp.classifier_weights import SHARED_EMBEDDINGS_KEY, shareable_state_dict

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("model*.safetensors*"):
        old.unlink()
    model.to("cpu").half()
    state, shared = shareable_state_dict(model) if share_base_embeddings else (None, None)
    if shared:
        setattr(model.config, SHARED_EMBEDDINGS_KEY, shared)
    model.save_pretrained(out, state_dict=state, max_shard_size=MAX_SHARD,
                          safe_serialization=True)
    tokenizer.save_pretrained(out)
    return bool(shared)
