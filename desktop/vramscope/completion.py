"""Shell completion for the command line, written from the parser itself so it never lags behind it."""

import argparse

from vramscope.core.precision import KV_DTYPES, WEIGHT_FORMATS
from vramscope.core.scenario import Engine
from vramscope.hardware.catalog import catalog
from vramscope.sources.presets import preset_documents

SHELLS = ("bash", "zsh")


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """A bash completion function (zsh runs it through bashcompinit)."""
    commands = _commands(parser)
    values = {
        "--engine": " ".join(e.value for e in Engine),
        "--gpu": " ".join(["auto", *(g.id for g in catalog())]),
        "--weights": " ".join(WEIGHT_FORMATS),
        "--kv-dtype": " ".join(["auto", *KV_DTYPES]),
        "--solve": "context batch gpus format gpu",
        "--flash-attn": "on off",
        "--split-mode": "layer none",
    }
    cases = "\n".join(
        f'    {option}) COMPREPLY=($(compgen -W "{words}" -- "$cur")); return;;' for option, words in values.items()
    )
    per_command = "\n".join(f'    {name}) opts="{" ".join(_options(sub))}";;' for name, sub in commands.items())
    lines = [
        "# vramscope completion: `vramscope completion bash` (or zsh) into your shell's completion folder",
        *(["autoload -U +X bashcompinit && bashcompinit"] if shell == "zsh" else []),
        "_vramscope() {",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="${COMP_WORDS[1]}" opts=""',
        '  case "$prev" in',
        cases,
        "  esac",
        '  if [ "$COMP_CWORD" -eq 1 ]; then',
        f'    COMPREPLY=($(compgen -W "{" ".join(commands)} --help --version" -- "$cur")); return',
        "  fi",
        '  case "$cmd" in',
        per_command,
        "  esac",
        '  if [[ "$cur" == -* ]]; then',
        '    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))',
        '  elif [ "$cmd" = estimate ]; then',
        f'    COMPREPLY=($(compgen -W "{" ".join(preset_documents())}" -- "$cur") $(compgen -f -- "$cur"))',
        '  elif [ "$cmd" = completion ]; then',
        f'    COMPREPLY=($(compgen -W "{" ".join(SHELLS)}" -- "$cur"))',
        "  else",
        '    COMPREPLY=($(compgen -f -- "$cur"))',
        "  fi",
        "}",
        "complete -o filenames -F _vramscope vramscope",
    ]
    return "\n".join(lines) + "\n"
