"""Validation machinery of input decks: TOML tables -> frozen dataclasses in SI units.

The deck sections themselves live in :mod:`kmc.deck`; this module holds what they are made of:

* :func:`param` - a dataclass field whose metadata carries its documentation, SI unit, allowed
  range, choices and list lengths (one table that drives validation, error messages and the
  attributes of output datasets);
* :func:`build` - a TOML table -> dataclass, converting quantity strings (``"25 degC"``) to SI
  with :func:`kmc.units.to_si`; unknown keys are answered with the closest valid names (difflib);
* :class:`Validated` - base of every section: ``__post_init__`` checks each field in SI (type,
  range, choices, list length) and runs the section's ``check``, so direct construction and
  :func:`dataclasses.replace` are validated exactly like a loaded deck; its :meth:`~Validated.replace`
  applies dotted-key overrides given as in TOML (``"conditions.temperature", "60 degC"``);
* :func:`from_si` - nested plain data in SI (``dataclasses.asdict`` output) -> dataclass;
* :func:`parse_override` - ``"KEY=VALUE"`` of the command line's ``--set`` -> (key, value).

Every error is a one-line :class:`~kmc.errors.ConfigError` naming the key path, the value and
what is allowed.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import tomllib
import types
import typing
from dataclasses import MISSING, field
from typing import ClassVar

from .errors import ConfigError
from .units import to_si


def param(doc, *, unit=None, default=MISSING, default_factory=MISSING, lo=None, hi=None,
          lo_open=False, hi_open=False, choices=None, length=None):
    """A deck field with its documentation, SI unit, range and choices.

    Parameters
    ----------
    doc : str
        One-line description (becomes the ``long_name`` of output attributes).
    unit : str, optional
        SI unit the value is converted to; ``""`` for dimensionless quantities, ``None``
        for plain numbers, strings and lists.
    lo, hi : float, optional
        Inclusive bounds (exclusive if ``lo_open``/``hi_open``).
    choices : tuple of str, optional
        Allowed strings.
    length : tuple of int, optional
        Allowed list lengths.
    """
    meta = dict(doc=doc, unit=unit, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                choices=choices, length=length)
    return field(default=default, default_factory=default_factory, metadata=meta)


def _range_text(meta):
    unit = f" {meta['unit']}" if meta["unit"] else ""
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and hi is not None:
        left = "(" if meta["lo_open"] else "["
        right = ")" if meta["hi_open"] else "]"
        return f"in {left}{lo:g}, {hi:g}{right}{unit}"
    if lo is not None:
        return f"{'>' if meta['lo_open'] else '>='} {lo:g}{unit}"
    return f"{'<' if meta['hi_open'] else '<='} {hi:g}{unit}"


def _check_range(key, shown, number, meta):
    lo, hi = meta.get("lo"), meta.get("hi")
    bad = (lo is not None and (number < lo or (meta["lo_open"] and number == lo))) or (
        hi is not None and (number > hi or (meta["hi_open"] and number == hi)))
    if bad:
        raise ConfigError(f"{key} = {shown}: out of range, must be {_range_text(meta)}")


def _shown_raw(raw, number, meta):
    """A TOML value as an error message shows it: the entry, and its SI value if different."""
    si = f"{number:g} {meta['unit'] or ''}".strip()
    return f"{raw!r} (= {si})" if isinstance(raw, str) and raw.strip() != si else repr(raw)


def show(value, meta) -> str:
    """A validated (SI) value as error messages show it: ``"1e+06 Pa"``, ``"[1.0, 0.0]"``, ``"'x'"``."""
    if isinstance(value, tuple):
        return repr(list(value))
    if meta.get("unit") is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g} {meta['unit']}".strip()
    return repr(value)


_PLURAL = {int: "integers", float: "numbers", str: "strings", bool: "true/false values"}


def _choice(key, value, meta):
    if meta.get("choices") and value not in meta["choices"]:
        close = difflib.get_close_matches(value, meta["choices"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{key} = {value!r}: must be one of {', '.join(meta['choices'])}{hint}")


def _optional(tp):
    """``X`` for ``X | None`` (an optional field), else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


# --- TOML values (as written in a deck) -> SI ------------------------------------------------

def _convert_scalar(key, raw, tp, meta):
    if meta["unit"] is not None:
        number = to_si(key, raw, meta["unit"])
        _check_range(key, _shown_raw(raw, number, meta), number, meta)
        return number
    if tp is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{key} = {raw!r}: expected true or false")
        return raw
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{key} = {raw!r}: expected an integer")
        _check_range(key, repr(raw), raw, meta)
        return raw
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise ConfigError(f"{key} = {raw!r}: expected a finite number")
        _check_range(key, repr(raw), float(raw), meta)
        return float(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{key} = {raw!r}: expected a string")
        _choice(key, raw, meta)
        return raw
    raise TypeError(f"unsupported field type {tp}")  # programming error, not user error


def _convert(key, raw, tp, meta):
    """Convert the TOML value ``raw`` of ``key`` to SI, checking it against ``meta``."""
    tp = _optional(tp) or tp
    origin = typing.get_origin(tp)
    if tp is dict or origin is dict:
        if not isinstance(raw, dict):
            raise ConfigError(f"{key} = {raw!r}: expected a table [{key}]")
        return dict(raw)  # validated by its consumer (e.g. kmc.materials)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(raw, list):
            raise ConfigError(f"{key} = {raw!r}: expected a list of {_PLURAL[item_tp]}")
        if meta["length"] and len(raw) not in meta["length"]:
            allowed = " or ".join(str(n) for n in meta["length"])
            raise ConfigError(f"{key} = {raw!r}: expected a list of {allowed} items, got {len(raw)}")
        return tuple(_convert(f"{key}[{i}]", r, item_tp, meta) for i, r in enumerate(raw))
    return _convert_scalar(key, raw, tp, meta)


@functools.cache
def _hints(cls):
    return typing.get_type_hints(cls)


def _unknown(key, name, allowed, where):
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{key}: unknown key{hint} (allowed in {where}: {', '.join(allowed)})")


def build(cls, data, prefix=""):
    """Build dataclass ``cls`` from a TOML table, validating every key.

    Raises
    ------
    ConfigError
        One line naming the key path, the value and what is allowed.
    """
    where = prefix.rstrip(".") or "the deck"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} = {data!r}: expected a table [{where}]")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    for key in data:
        if key not in fields:
            raise _unknown(prefix + key, key, list(fields), where)
    kwargs = {}
    for name, f in fields.items():
        key = prefix + name
        tp = hints[name]
        if name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{key}: missing required key ({f.metadata.get('doc', '')})")
            continue
        if dataclasses.is_dataclass(tp):
            kwargs[name] = build(tp, data[name], key + ".")
        else:
            kwargs[name] = _convert(key, data[name], tp, f.metadata)
    obj = cls(**kwargs)  # a Validated class checks itself here
    check = getattr(obj, "check", None)
    if check is not None and not isinstance(obj, Validated):
        check(prefix)
    return obj


def from_si(cls, data, prefix=""):
    """Build dataclass ``cls`` from nested plain data in SI units (the output of
    :func:`dataclasses.asdict`, e.g. read back from a dataset or checkpoint), validated by its
    constructor; keys missing from ``data`` take their defaults.

    Raises
    ------
    ConfigError
        On an unknown or missing required key, or an invalid value (one line).
    """
    where = prefix.rstrip(".") or "the deck"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} = {data!r}: expected a table [{where}]")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    kwargs = {}
    for name, value in data.items():
        if name not in fields:
            raise _unknown(prefix + name, name, list(fields), where)
        tp = hints[name]
        kwargs[name] = from_si(tp, value, f"{prefix}{name}.") if dataclasses.is_dataclass(tp) else value
    for name, f in fields.items():
        if name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{prefix}{name}: missing required key ({f.metadata.get('doc', '')})")
    return cls(**kwargs)


# --- SI values (as held by a section) ---------------------------------------------------------

def _validate(key, value, tp, meta):
    """Check an SI value against its field type and ``meta``; the value normalised (int ->
    float for real fields, list -> tuple)."""
    inner = _optional(tp)
    if inner is not None:
        if value is None:
            return None
        tp = inner
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, tp):
            raise ConfigError(f"{key} = {value!r}: expected a {tp.__name__} ([{key}] section)")
        return value
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} = {value!r}: expected a table [{key}]")
        return value
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, (tuple, list)):
            raise ConfigError(f"{key} = {value!r}: expected a list of {_PLURAL[item_tp]}")
        if meta["length"] and len(value) not in meta["length"]:
            allowed = " or ".join(str(n) for n in meta["length"])
            raise ConfigError(f"{key} = {list(value)!r}: expected a list of {allowed} items, "
                              f"got {len(value)}")
        return tuple(_validate(f"{key}[{i}]", v, item_tp, meta) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r}: expected an integer")
        _check_range(key, repr(value), value, meta)
        return value
    if tp is float:
        unit = meta.get("unit")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            where = f" in {unit} (SI)" if unit else ""
            raise ConfigError(f"{key} = {value!r}: expected a finite number{where}")
        value = float(value)
        _check_range(key, show(value, meta), value, meta)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r}: expected a string")
        _choice(key, value, meta)
        return value
    raise TypeError(f"unsupported field type {tp}")  # programming error, not user error


_NOTHING = object()


class _Tree(dict):
    """Overrides of one section: field name -> value, or -> _Tree of a nested section."""


class Validated:
    """Base of deck sections and decks: frozen dataclasses that validate themselves.

    ``__post_init__`` checks every :func:`param` field in SI (type, range, choices, list
    length; ints given for real fields become floats, lists become tuples), then calls the
    class's ``check(prefix)`` if it has one (cross checks between fields). So a section built
    by :func:`build`, constructed directly or copied with :func:`dataclasses.replace` is held
    to the same rules, and a bad value is a one-line :class:`ConfigError`.

    Subclasses set ``KEY``, the dotted path of the section in a deck (``"run"``,
    ``"microstructure.pores"``; ``""`` for a whole deck); error messages name fields by it.
    """

    KEY: ClassVar[str] = ""

    @property
    def _prefix(self) -> str:
        return f"{self.KEY}." if self.KEY else ""

    def __post_init__(self):
        prefix, hints = self._prefix, _hints(type(self))
        for f in dataclasses.fields(self):
            if "doc" not in f.metadata:
                continue
            value = getattr(self, f.name)
            checked = _validate(prefix + f.name, value, hints[f.name], f.metadata)
            if checked is not value:
                object.__setattr__(self, f.name, checked)
        check = getattr(self, "check", None)
        if check is not None:
            check(prefix)

    def replace(self, changes=None, value=_NOTHING, /, **kwargs):
        """A copy with values changed, validated like a loaded deck (cross checks included).

        Parameters
        ----------
        changes : str or dict, optional
            A dotted key such as ``"conditions.temperature"`` (then ``value`` is its value), or
            a dict of dotted keys to values.
        value : optional
            The value as a deck writes it: a quantity string with a unit (``"60 degC"``), a
            number, bool, string or list, or a table (dict) of a section's keys, merged into it.
            A section object of the right class replaces the section.
        **kwargs
            More changes; ``__`` separates the parts of a key (``run__seed=3``); dotted keys
            can also be passed as ``**{"run.seed": 3}``.

        Returns
        -------
        Validated
            A new object of the same class; ``self`` is unchanged.

        Raises
        ------
        ConfigError
            One line: an unknown key (with the closest valid name), a bad value, or a failed
            cross check of the changed deck.

        Examples
        --------
        >>> hot = deck.replace("conditions.temperature", "60 degC")          # doctest: +SKIP
        >>> deck.replace({"run.seed": 3, "plating.creep": False})            # doctest: +SKIP
        >>> deck.replace(run__seed=3, protocol__current_density="5 A/m^2")   # doctest: +SKIP
        """
        items = []
        if isinstance(changes, str):
            if value is _NOTHING:
                raise TypeError(f"replace({changes!r}): the value is missing")
            items.append((changes, value))
        elif changes is not None:
            if value is not _NOTHING:
                raise TypeError("replace(dict, value): give either a key and a value, or a dict")
            items.extend(dict(changes).items())
        items.extend((k.replace("__", "."), v) for k, v in kwargs.items())
        tree = _Tree()
        for key, raw in items:
            _place(self, tree, key.split("."), raw, self._prefix)
        return _rebuild(self, tree)


def _place(obj, tree, parts, raw, prefix):
    """Convert override ``raw`` of the dotted path ``parts`` below ``obj`` into ``tree``."""
    cls = type(obj)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    name, key = parts[0], prefix + parts[0]
    if name not in fields:
        raise _unknown(key, name, list(fields), prefix.rstrip(".") or "the deck")
    tp, meta = _hints(cls)[name], fields[name].metadata
    section = dataclasses.is_dataclass(tp)
    if len(parts) > 1:
        if not section:
            raise ConfigError(f"{key}.{parts[1]}: unknown key ({key} is a value, not a table)")
        sub = tree.setdefault(name, _Tree())
        if not isinstance(sub, _Tree):
            raise ConfigError(f"{key}.{parts[1]}: {key} is replaced whole in the same call")
        _place(getattr(obj, name), sub, parts[1:], raw, key + ".")
    elif section and isinstance(raw, tp):
        tree[name] = raw
    elif section:
        if not isinstance(raw, dict):
            raise ConfigError(f"{key} = {raw!r}: expected a table [{key}]")
        for sub_key, sub_raw in raw.items():
            _place(obj, tree, [name, *sub_key.split(".")], sub_raw, prefix)
    else:
        tree[name] = _convert(key, raw, tp, meta)


def _rebuild(obj, tree):
    changes = {name: _rebuild(getattr(obj, name), node) if isinstance(node, _Tree) else node
               for name, node in tree.items()}
    return dataclasses.replace(obj, **changes)


_KEY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def parse_override(text: str):
    """Split a command-line override ``KEY=VALUE`` (``--set``) into (key, value).

    ``VALUE`` is read as a TOML value (``3``, ``false``, ``"5 A/m^2"``, ``["1 um", "2 um"]``,
    ``{ fraction = 0.1 }``); anything that is not one is taken as a bare string, so the shell's
    ``--set protocol.current_density="5 A/m^2"`` (quotes removed by the shell) and
    ``--set run.engine=reference`` both work. Pass the result to the deck's ``replace``.

    Raises
    ------
    ConfigError
        If there is no ``=`` or ``KEY`` is not a dotted name.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not _KEY.fullmatch(key):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with a dotted KEY, e.g. "
                          "run.seed=3 or conditions.temperature='60 degC'")
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return key, raw
    return (key, parsed["v"]) if len(parsed) == 1 else (key, raw)
