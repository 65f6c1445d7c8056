"""The settings as an operator writes them in the environment."""

from __future__ import annotations

import pytest

from config import Settings


@pytest.mark.parametrize("form", ["partner,admin", " partner , admin ", '["partner", "admin"]'])
def test_every_list_setting_takes_json_or_commas(form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTROSPECTION_FOR", "PERSISTED_QUERIES_ENFORCED_FOR"):
        monkeypatch.setenv(name, form)
    monkeypatch.setenv(
        "CORS_ALLOW_ORIGINS",
        form.replace("partner", "https://a.example").replace("admin", "https://b.example"),
    )
    monkeypatch.setenv("JWT_ALGORITHMS", form.replace("partner", "HS256").replace("admin", "HS256"))
    settings = Settings()
    assert settings.introspection_for == ["partner", "admin"]
    assert settings.persisted_queries_enforced_for == ["partner", "admin"]
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]
    assert settings.jwt_algorithms == ["HS256", "HS256"]


def production(**overrides: object) -> Settings:
    return Settings(
        environment="production",
        jwt_secret="s" * 40,
        inventory_database_url="sqlite+aiosqlite:///x.db",
        orders_database_url="postgresql+asyncpg://x/y",
        redis_url="redis://x",
        qdrant_url="http://x:6333",
        **overrides,  # type: ignore[arg-type]
    )


def test_production_serves_no_graphiql_unless_asked() -> None:
    assert not production().serves_graphiql
    assert production(graphiql=True).serves_graphiql
    assert Settings(environment="development").serves_graphiql
