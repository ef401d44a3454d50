"""Read and write the curriculum file format: a folder with ``curriculum.yaml`` and one
Markdown file per module (YAML front matter for the structured parts, the body for key points).

Reading never raises on bad content: it returns every problem it found, each with the file,
the line and the field, so a director can fix them all in one pass.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .curriculum import (
    Consideration,
    Curriculum,
    Field,
    Module,
    OutlineStep,
    PatternSlot,
    Track,
    Worksheet,
)
from .curriculum_languages import check_languages, twin_problems
from .curriculum_rules import check_content, check_structure
from .problems import N_, Problem

MANIFEST = "curriculum.yaml"
REVIEW_MARK = "*"  # a twin file's `review: true`, read before the twin knows its language
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "curriculum"  # the repository's curriculum/
SCHEMA_DIR = Path(__file__).with_name("schemas")
MAX_FILE_BYTES = 256 * 1024  # a module file is a few kilobytes; refuse anything absurd
MAX_FILES = 2000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster when present


def _schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / name).read_text()))


MANIFEST_SCHEMA = _schema("manifest.schema.json")
MODULE_SCHEMA = _schema("module.schema.json")


def read_folder(path: str | Path) -> dict[str, str]:
    """Read a curriculum folder into {relative posix path: text} for the parser."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{path}: not a folder")
    files: dict[str, str] = {}
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root).as_posix()
        if not file.is_file() or not (rel == MANIFEST or rel.startswith("modules/")):
            continue
        if len(files) >= MAX_FILES:
            break
        files[rel] = file.read_bytes()[:MAX_FILE_BYTES + 1].decode("utf-8", errors="replace")
    return files


def _node_line(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at a JSON-style path (or its nearest parent)."""
    if node is None:
        return None
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if 0 <= key < len(node.value):
                child = node.value[key]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _field_path(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


class _Doc:
    """A parsed YAML document with its node tree, for locating problems by line."""

    def __init__(self, file: str, text: str, line_offset: int, problems: list[Problem]):
        self.file, self.offset, self.problems = file, line_offset, problems
        self.data: Any = None
        self.node: yaml.Node | None = None
        loader = _Loader(text)
        try:
            # One pass: compose the node tree (it keeps line marks), then build the data from it.
            self.node = loader.get_single_node()
            self.data = loader.construct_document(self.node) if self.node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark else None
            problems.append(Problem(file, N_("not valid YAML: %(detail)s"), line,
                                    params=(("detail", str(getattr(exc, "problem", exc))),)))

    def line(self, path: tuple[Any, ...]) -> int | None:
        found = _node_line(self.node, path)
        return found + self.offset if found else None

    def problem(self, path: tuple[Any, ...], message: str, severity: str = "error", **params: Any) -> None:
        self.problems.append(Problem(self.file, message, self.line(path), _field_path(path), severity,
                                     tuple(params.items())))

    def check_schema(self, validator: Draft202012Validator) -> bool:
        errors = sorted(validator.iter_errors(self.data), key=lambda e: list(map(str, e.path)))
        for error in errors:
            self.problem(tuple(error.path), error.message)
        return not errors


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Split a Markdown file into (front matter YAML, body, line of the YAML's first line - 1)."""
    if not text.startswith("---\n"):
        raise ValueError(N_("a module file must start with '---' and YAML front matter"))
    end = text.find("\n---", 3)
    if end < 0:
        raise ValueError(N_("the front matter has no closing '---' line"))
    body_start = text.find("\n", end + 1)
    body = text[body_start + 1:] if body_start >= 0 else ""
    return text[4:end + 1], body.strip("\n") + ("\n" if body.strip() else ""), 1


def field_from_dict(raw: dict[str, Any]) -> Field:
    """A Field from its file/JSON form (lists become tuples)."""
    values = dict(raw)
    for key in ("items", "columns", "row_labels", "steps"):
        if key in values:
            values[key] = tuple(values[key])
    return Field(**values)


def _module(file: str, data: dict[str, Any], body: str) -> Module:
    return Module(
        code=data["code"],
        title=data["title"],
        minutes=data["minutes"],
        retired=data.get("retired", False),
        goals=tuple(data["goals"]),
        outline=tuple(OutlineStep(**step) for step in data["outline"]),
        key_points=body,
        questions=tuple(data["questions"]),
        considerations=tuple(Consideration(**c) for c in data["considerations"]),
        worksheets=tuple(
            Worksheet(
                code=w["code"],
                title=w["title"],
                intro=w.get("intro", ""),
                pages=w.get("pages", 1),
                language=w.get("language", "en"),
                fields=tuple(field_from_dict(f) for f in w["fields"]),
            )
            for w in data.get("worksheets", [])
        ),
        source=file,
        needs_review=(REVIEW_MARK,) if data.get("review") else (),
    )


def parse_module(file: str, text: str, problems: list[Problem]) -> Module | None:
    """Parse one module file; append problems and return None if it is not usable."""
    try:
        front, body, offset = split_front_matter(text)
    except ValueError as exc:
        problems.append(Problem(file, str(exc), 1))
        return None
    doc = _Doc(file, front, offset, problems)
    if doc.data is None and not any(p.file == file for p in problems):
        problems.append(Problem(file, N_("the front matter is empty"), 2))
    if doc.data is None or not doc.check_schema(MODULE_SCHEMA):
        return None
    return _module(file, doc.data, body)


def parse_curriculum(files: dict[str, str]) -> tuple[Curriculum | None, list[Problem]]:
    """Build a Curriculum from {relative path: text}; return it (or None) and every problem."""
    problems: list[Problem] = []
    if MANIFEST not in files:
        return None, [Problem(MANIFEST, N_("the folder has no curriculum.yaml manifest"))]
    for name, text in files.items():
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            problems.append(Problem(name, N_("file is larger than %(size)s KiB"), params=(("size", MAX_FILE_BYTES // 1024),)))
    if problems:
        return None, problems
    manifest = _Doc(MANIFEST, files[MANIFEST], 0, problems)
    if manifest.data is None or not manifest.check_schema(MANIFEST_SCHEMA):
        return None, problems
    data = manifest.data
    translations = data.get("translations", {})
    languages = sorted(translations)
    tracks = []
    listed: set[str] = set()
    for t_index, raw_track in enumerate(data["tracks"]):
        modules = []
        for m_index, rel in enumerate(raw_track["modules"]):
            path = ("tracks", t_index, "modules", m_index)
            norm = str(PurePosixPath(rel))
            if ".." in PurePosixPath(rel).parts:
                manifest.problem(path, N_("%(file)s: module paths may not leave the curriculum folder"), file=rel)
                continue
            if norm in listed:
                manifest.problem(path, N_("%(file)s is listed twice"), file=rel)
                continue
            listed.add(norm)
            if norm not in files:
                manifest.problem(path, N_("%(file)s: no such module file"), file=rel)
                continue
            module = parse_module(norm, files[norm], problems)
            if module is not None:
                modules.append(_with_twins(module, norm, languages, files, problems))
        tracks.append(
            Track(
                code=raw_track["code"],
                name=raw_track["name"],
                kind=raw_track["kind"],
                ordering=raw_track["ordering"],
                minutes=raw_track["minutes"],
                required=raw_track["required"],
                first_week=raw_track.get("first_week", 1),
                last_week=raw_track.get("last_week"),
                closing_discussion_minutes=raw_track.get("closing_discussion_minutes", 0),
                modules=tuple(modules),
                names=tuple((language, translations[language]["tracks"][raw_track["code"]]) for language in languages
                            if raw_track["code"] in translations[language]["tracks"]),
            )
        )
    twins = {twin_file_name(name, language) for name in listed for language in languages}
    for name in sorted(files):
        if name.startswith("modules/") and name.endswith(".md") and name not in listed and name not in twins:
            problems.append(Problem(name, N_("module file is not listed in curriculum.yaml"), None, "", "warning"))
    curriculum = Curriculum(
        name=data["name"],
        title=data["title"],
        version=str(data["version"]),
        language=data.get("language", "en"),
        description=data.get("description", ""),
        credit_share=float(data.get("credit_share", 0.75)),
        pattern=tuple(PatternSlot(**slot) for slot in data.get("pattern", [])),
        tracks=tuple(tracks),
        translations=tuple((language, translations[language]["title"]) for language in languages),
        descriptions=tuple((language, translations[language].get("description", "")) for language in languages),
    )
    # Cross-file rules need the manifest's line numbers, so they are checked here.
    problems.extend(check_structure(curriculum, manifest.line))
    problems.extend(check_content(curriculum))
    problems.extend(check_languages(curriculum))
    return curriculum, problems


def twin_file_name(name: str, language: str) -> str:
    """The file of a module's twin in a language: modules/rp/rp-07.es.md beside modules/rp/rp-07.md."""
    return name[:-3] + f".{language}.md"


def _with_twins(module: Module, name: str, languages: list[str], files: dict[str, str],
                problems: list[Problem]) -> Module:
    """The module with its twin in each language that has a file (a missing one is reported later)."""
    twins = []
    for language in languages:
        twin_name = twin_file_name(name, language)
        if twin_name in files and (twin := parse_module(twin_name, files[twin_name], problems)) is not None:
            if twin.needs_review:
                module = replace(module, needs_review=(*module.needs_review, language))
            twins.append((language, replace(twin, needs_review=(),
                                            worksheets=tuple(replace(w, language=language) for w in twin.worksheets))))
    return replace(module, translations=tuple(twins)) if twins else module


def load_folder(path: str | Path) -> tuple[Curriculum | None, list[Problem]]:
    """Read, parse and validate a curriculum folder: (curriculum or None, every problem)."""
    return parse_curriculum(read_folder(path))


def shipped_path(name_or_path: str | Path) -> Path:
    """A shipped curriculum's folder by name ("matrix-16"), or the given folder itself."""
    candidate = SHIPPED_DIR / str(name_or_path)
    if "/" not in str(name_or_path) and (candidate / MANIFEST).is_file():
        return candidate
    return Path(name_or_path)


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that block import or publishing (warnings left out)."""
    return [p for p in problems if p.severity == "error"]


# --- writing ---------------------------------------------------------------------------

# Keys the schema requires for a type even when they hold the default value (a scale from 0).
_KEPT_FOR_TYPE = {"scale": ("min", "max"), "schedule": ("start_hour", "end_hour")}


def field_to_dict(f: Field) -> dict[str, Any]:
    """A Field as the file/JSON form, leaving out attributes at their defaults."""
    out: dict[str, Any] = {}
    for name, spec in Field.__dataclass_fields__.items():
        value = getattr(f, name)
        if name in ("id", "type") or value != spec.default or name in _KEPT_FOR_TYPE.get(f.type, ()):
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def module_front_matter(module: Module) -> dict[str, Any]:
    """The front-matter mapping for a module file, in a stable, readable key order."""
    data: dict[str, Any] = {"code": module.code, "title": module.title, "minutes": module.minutes}
    if module.retired:
        data["retired"] = True
    data["goals"] = list(module.goals)
    data["outline"] = [{"minutes": s.minutes, "activity": s.activity} for s in module.outline]
    data["questions"] = list(module.questions)
    data["considerations"] = [{"when": c.when, "do": c.do} for c in module.considerations]
    if module.worksheets:
        data["worksheets"] = []
        for w in module.worksheets:
            sheet: dict[str, Any] = {"code": w.code, "title": w.title}
            if w.intro:
                sheet["intro"] = w.intro
            if w.pages != 1:
                sheet["pages"] = w.pages
            if w.language != "en":
                sheet["language"] = w.language
            sheet["fields"] = [field_to_dict(f) for f in w.fields]
            data["worksheets"].append(sheet)
    return data


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def module_file_name(module: Module) -> str:
    """The path a module is exported to: modules/<track>/<code>.md, lower case."""
    track, _, rest = module.code.partition(" ")
    return f"modules/{track.lower()}/{track.lower()}-{rest.lower().zfill(2)}.md"


def render_files(curriculum: Curriculum) -> dict[str, str]:
    """The curriculum as {relative path: text}, ready to write to a folder or a zip."""
    files: dict[str, str] = {}
    tracks = []
    for track in curriculum.tracks:
        paths = []
        for module in track.modules:
            name = module.source if module.source.startswith("modules/") else module_file_name(module)
            paths.append(name)
            files[name] = _module_file(module)
            for language, twin in module.translations:
                files[twin_file_name(name, language)] = _twin_file(module, twin, language)
        entry: dict[str, Any] = {
            "code": track.code, "name": track.name, "kind": track.kind, "ordering": track.ordering,
            "minutes": track.minutes, "required": track.required, "first_week": track.first_week,
        }
        if track.last_week is not None:
            entry["last_week"] = track.last_week
        if track.closing_discussion_minutes:
            entry["closing_discussion_minutes"] = track.closing_discussion_minutes
        entry["modules"] = paths
        tracks.append(entry)
    manifest: dict[str, Any] = {
        "name": curriculum.name, "title": curriculum.title, "version": curriculum.version,
        "language": curriculum.language,
    }
    if curriculum.description:
        manifest["description"] = curriculum.description
    manifest["credit_share"] = curriculum.credit_share
    manifest["pattern"] = [
        {"weekday": s.weekday, "time": s.time, "track": s.track, "minutes": s.minutes}
        for s in curriculum.pattern
    ]
    manifest["tracks"] = tracks
    if curriculum.translations:
        descriptions = dict(curriculum.descriptions)
        manifest["translations"] = {
            language: {"title": title, **({"description": descriptions[language]} if descriptions.get(language) else {}),
                       "tracks": {t.code: t.name_in(language) for t in curriculum.tracks if language in dict(t.names)}}
            for language, title in curriculum.translations}
    files[MANIFEST] = _dump(manifest)
    return files


def _module_file(module: Module, review: bool = False) -> str:
    body = module.key_points.strip()
    front = module_front_matter(module)
    if review:
        front = {**front, "review": True}
    return "---\n" + _dump(front) + "---\n" + (f"\n{body}\n" if body else "")


def _twin_file(module: Module, twin: Module, language: str) -> str:
    """A twin's file. One awaiting review is marked so; if its shape no longer matches the English
    (a step or worksheet added since), the English text stands in until someone translates it."""
    if language in module.needs_review and twin_problems(module, twin):
        twin = module
    twin = replace(twin, worksheets=tuple(replace(w, language="en") for w in twin.worksheets))
    return _module_file(twin, review=language in module.needs_review)


def write_folder(curriculum: Curriculum, path: str | Path) -> list[Path]:
    """Write the curriculum into a folder (created if needed); return the files written."""
    root = Path(path)
    written = []
    for rel, text in render_files(curriculum).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
