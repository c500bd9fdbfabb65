"""Private S3 storage whose signed URLs may name the address browsers use.

Inside docker-compose the app reaches MinIO as http://minio:9000, a name no
browser can resolve. Signing needs no request to the store, so URLs are signed
for MEMORIAL_S3_PUBLIC_ENDPOINT_URL while uploads and deletes keep using the
internal endpoint.
"""

from __future__ import annotations

import threading

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PrivateS3Storage(S3Storage):
    """S3Storage with an optional `public_endpoint_url` for the signed URLs it hands out."""

    def get_default_settings(self) -> dict:
        return {**super().get_default_settings(), "public_endpoint_url": None}

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        self._signer_lock = threading.Lock()
        self._signer = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_signer_lock", None)
        state["_signer"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._signer_lock = threading.Lock()

    def _signing_client(self):
        """A boto3 client (thread-safe) bound to the public address, made once."""
        with self._signer_lock:
            if self._signer is None:
                self._signer = self._create_session().client(
                    "s3",
                    region_name=self.region_name,
                    use_ssl=self.use_ssl,
                    endpoint_url=self.public_endpoint_url,
                    config=self.client_config,
                    verify=self.verify,
                )
            return self._signer

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        if not (self.public_endpoint_url and self.querystring_auth) or self.custom_domain:
            return super().url(name, parameters, expire, http_method)
        params = dict(parameters or {})
        params["Bucket"] = self.bucket_name
        params["Key"] = self._normalize_name(clean_name(name))
        return self._signing_client().generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )
