from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import UserInputError


def test_precedence_flags_over_environment_over_file_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('[assistant]\ntop_k = 7\nmax_sentences = 2\nallowed_origins = ["https://a.example"]\n')
    env = {"ASSISTANT_MAX_SENTENCES": "4", "ASSISTANT_CONFIG": str(config)}
    settings = Settings.load(overrides={"max_sentences": 5}, environ=env)
    assert settings.top_k == 7 and settings.max_sentences == 5
    assert settings.allowed_origins == ("https://a.example",)
    assert Settings.load(environ=env).max_sentences == 4
    assert Settings.load(environ={}).max_sentences == 3


def test_lists_from_the_environment_and_paths() -> None:
    settings = Settings.load(environ={"ASSISTANT_ALLOWED_ORIGINS": "https://a.example, https://b.example",
                                      "ASSISTANT_CORPUS": "docs,more", "ASSISTANT_INDEX_DIR": "/tmp/x"})
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.corpus == (Path("docs"), Path("more")) and settings.index_dir == Path("/tmp/x")


@pytest.mark.parametrize(("environ", "message"), [
    ({"ASSISTANT_TOP_K": "many"}, "Setting top_k has an invalid value 'many'"),
    ({"ASSISTANT_CONFIG": "/no/such.toml"}, "does not exist"),
])
def test_bad_settings_are_one_clear_sentence(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        Settings.load(environ=environ)


def test_bad_toml_and_unknown_keys(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[assistant\n")
    with pytest.raises(UserInputError, match="not valid TOML"):
        Settings.load(environ={}, config_file=broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[assistant]\ncolour = 'blue'\n")
    with pytest.raises(UserInputError, match="Unknown setting 'colour'"):
        Settings.load(environ={}, config_file=unknown)
