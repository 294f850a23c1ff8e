"""The CLI writes its result cache under the user's cache directory; tests give it a directory of
their own, so a test run leaves nothing behind and never reads results of an earlier run."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_result_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    patch = pytest.MonkeyPatch()
    patch.setenv("IAC_VALIDATOR_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))
    yield
    patch.undo()
