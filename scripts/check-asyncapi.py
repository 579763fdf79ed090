#!/usr/bin/env python3
"""Checks docs/asyncapi.yaml, and deploy/rabbitmq/definitions.json against it.

    scripts/check-asyncapi.py [--examples DIR]

1. The document is valid AsyncAPI 3.0.0: validated with `jsonschema` (Draft 7) against the official
   bundled schema (github.com/asyncapi/spec-json-schemas, schemas/3.0.0-without-$id.json, Apache-2.0),
   read from ../shared/data/asyncapi/asyncapi-3.0.0-without-id.schema.json when that exists, else from
   the copy at docs/asyncapi-3.0.0-schema.json.
2. Every `$ref` is local (`#/...`) and resolves; operations point at their own channel's messages;
   channel address parameters are declared; every schema under components is valid JSON Schema; each
   message's `name` is its payload's `schema` const, and no two messages share one; every example
   embedded in the document validates against its message.
3. deploy/rabbitmq/definitions.json declares exactly the exchanges, queues and bindings the document
   names, with the arguments the services declare (Shared/AMQP/Topology.swift): durable topic
   exchanges; durable quorum queues; every consuming queue dead-letters to `crm.dead` with its own
   name as routing key and has a `<queue>.dead` companion bound to `crm.dead`; every routing key the
   system publishes mandatorily reaches a queue (a channel with `x-crm-mandatory: false`, whose
   queues are the consumers' own to bind, is exempt); every desk of deploy/complaint-rules.json has its queue.
4. With --examples DIR: every DIR/*.json is one message named `<schema>.json` or `<schema>.<label>.json`
   (e.g. `order.v1.json`, `order.v1.refund.json`) and must validate against the payload of the message
   whose `schema` const is <schema>; every DIR/invalid/*.json, named the same way, must NOT validate.

Exit status: 0 when everything passes, 1 when a check fails (each failure on its own FAIL line),
2 when a file cannot be read. Needs Python 3.8+, PyYAML and jsonschema 4.18+.
"""

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import yaml
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7
except ImportError as error:  # pragma: no cover - environment problem
    print(f"check-asyncapi: missing Python package ({error}); install PyYAML and jsonschema>=4.18", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMA = ROOT.parent / "shared" / "data" / "asyncapi" / "asyncapi-3.0.0-without-id.schema.json"
LOCAL_SCHEMA = ROOT / "docs" / "asyncapi-3.0.0-schema.json"
DOCUMENT_URI = "urn:crm:asyncapi-document"
MAX_BODY = 262_144
DEAD_LETTER_EXCHANGE = "crm.dead"
DEAD_SUFFIX = ".dead"


class Report:
    """Collects failures; prints each as one line."""

    def __init__(self):
        self.failures = 0

    def fail(self, where, message):
        self.failures += 1
        print(f"FAIL {where}: {message}")

    def ok(self, message, since=None):
        """Prints an ok line, unless a failure was reported after the count `since`."""
        if since is None or self.failures == since:
            print(f"ok   {message}")

    def note(self, message):
        print(f"     {message}")


def die(message):
    print(f"check-asyncapi: {message}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        die(f"cannot read {what} {path}: {error.strerror}")
    except json.JSONDecodeError as error:
        die(f"{what} {path} is not JSON: {error}")


def display(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def json_path(parts):
    return "/" + "/".join(str(part) for part in parts) if parts else "(document)"


def leaf_errors(error):
    """The innermost causes of a validation error (oneOf/anyOf failures hold one per branch)."""
    if not error.context:
        return [error]
    return [leaf for cause in error.context for leaf in leaf_errors(cause)]


def cause(error):
    """The most telling cause: the deepest one that is not a bare type mismatch of a branch not taken."""
    return max(leaf_errors(error), key=lambda leaf: (leaf.validator != "type", len(leaf.absolute_path)))


def words(error):
    """The error's message, with long patterns and enumerations summarized."""
    shown = json.dumps(error.instance, ensure_ascii=False)[:80]
    if error.validator == "pattern" and len(str(error.validator_value)) > 60:
        rule = " ".join((error.schema.get("description") or "").split()).split(". ")[0].rstrip(".")
        return f"{shown} breaks the rule" + (f": {rule}" if rule else f" {error.validator_value}")
    if error.validator == "enum" and len(error.validator_value) > 12:
        return f"{shown} is not one of the {len(error.validator_value)} allowed values"
    return error.message[:300]


# ---------------------------------------------------------------------------------------------------
# 1. The AsyncAPI schema


def check_against_asyncapi_schema(document, schema_path, report):
    schema = load_json(schema_path, "AsyncAPI schema")
    validator = Draft7Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    for error in errors:
        detail = cause(error)
        where = json_path(list(detail.absolute_path) or list(error.absolute_path))
        report.fail(f"docs/asyncapi.yaml {where}", words(detail))
    if not errors:
        report.ok(f"docs/asyncapi.yaml is valid AsyncAPI {document.get('asyncapi')} ({display(schema_path)})")


# ---------------------------------------------------------------------------------------------------
# 2. References and the document's own consistency


def pointer_parts(pointer):
    """The unescaped parts of a JSON pointer fragment such as '#/components/schemas/Money'."""
    if pointer in ("#", "#/"):
        return []
    if not pointer.startswith("#/"):
        raise ValueError("not a local JSON pointer")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[2:].split("/")]


def resolve(document, pointer):
    node = document
    for part in pointer_parts(pointer):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(part)
    return node


def walk_refs(node, path=()):
    """Yields (path, ref) for every `$ref` string in the document."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield path, ref
        for key, value in node.items():
            yield from walk_refs(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_refs(value, path + (index,))


def check_refs(document, report):
    since = report.failures
    count = 0
    for path, ref in walk_refs(document):
        count += 1
        where = f"docs/asyncapi.yaml {json_path(path)}"
        if not ref.startswith("#"):
            report.fail(where, f"$ref {ref!r} is not local; the document must stand alone")
            continue
        try:
            resolve(document, ref)
        except (KeyError, ValueError):
            report.fail(where, f"$ref {ref!r} does not resolve")
    report.ok(f"{count} local $refs resolve", since)


def deref(document, node, depth=0):
    """Follows `$ref`s until a node that is not a reference."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 50:
        try:
            node = resolve(document, node["$ref"])
        except (KeyError, ValueError):
            return {}
        depth += 1
    return node


def schema_const(document, schema, depth=0):
    """The `schema` const of a payload schema, looking through `$ref` and `allOf`."""
    schema = deref(document, schema)
    if not isinstance(schema, dict) or depth > 10:
        return None
    const = deref(document, schema.get("properties", {}).get("schema", {})).get("const")
    if isinstance(const, str):
        return const
    for part in schema.get("allOf", []):
        found = schema_const(document, part, depth + 1)
        if found:
            return found
    return None


def address_parameters(address):
    return set(re.findall(r"\{([^}]+)\}", address or ""))


def expand_address(address, parameters):
    """Every concrete address of a channel whose parameters all have an `enum`."""
    addresses = [address]
    for name in sorted(address_parameters(address)):
        values = (parameters or {}).get(name, {}).get("enum")
        if not values:
            return None
        addresses = [a.replace("{" + name + "}", str(v)) for a in addresses for v in values]
    return addresses


def make_registry(document):
    return Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT7))


def validator_for(registry, pointer):
    return Draft7Validator(
        {"$ref": DOCUMENT_URI + pointer}, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER
    )


def message_errors(validator, instance):
    """One line per validation error, deepest cause first."""
    lines = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        detail = cause(error)
        where = json_path(list(detail.absolute_path)) if detail.absolute_path else "(message)"
        lines.append(f"{where}: {words(detail)}")
    return lines


def check_consistency(document, registry, report):
    since = report.failures
    channels = document.get("channels") or {}
    operations = document.get("operations") or {}
    messages = (document.get("components") or {}).get("messages") or {}
    schemas = (document.get("components") or {}).get("schemas") or {}

    for name, channel in channels.items():
        declared = set((channel.get("parameters") or {}).keys())
        used = address_parameters(channel.get("address"))
        if declared != used:
            report.fail(f"channel {name}", f"address {channel.get('address')!r} uses {sorted(used)}, parameters declare {sorted(declared)}")

    for name, operation in operations.items():
        channel_ref = (operation.get("channel") or {}).get("$ref", "")
        if not channel_ref.startswith("#/channels/"):
            report.fail(f"operation {name}", f"channel {channel_ref!r} is not a reference to #/channels/...")
            continue
        for message in operation.get("messages") or []:
            ref = message.get("$ref", "")
            if not ref.startswith(channel_ref + "/messages/"):
                report.fail(f"operation {name}", f"message {ref!r} is not one of its channel's messages ({channel_ref})")

    for name, schema in schemas.items():
        try:
            Draft7Validator.check_schema(schema)
        except Exception as error:  # SchemaError; message is what matters
            report.fail(f"components/schemas/{name}", f"not a valid JSON Schema: {str(error).splitlines()[0]}")

    by_schema = {}
    for name, message in messages.items():
        message = deref(document, message)
        const = schema_const(document, message.get("payload", {}))
        if const is None:
            continue
        if message.get("name") != const:
            report.fail(f"message {name}", f"name {message.get('name')!r} differs from its payload's schema {const!r}")
        if const in by_schema:
            report.fail(f"message {name}", f"schema {const!r} is also the schema of message {by_schema[const]}")
        by_schema[const] = name

    examples = 0
    for name, message in messages.items():
        message = deref(document, message)
        for index, example in enumerate(message.get("examples") or []):
            where = f"message {name} example {example.get('name', index)}"
            for part in ("payload", "headers"):
                if part in example and part in message:
                    examples += 1
                    validator = validator_for(registry, f"#/components/messages/{name}/{part}")
                    for line in message_errors(validator, example[part]):
                        report.fail(where, f"{part} {line}")
    report.ok(f"{len(channels)} channels, {len(operations)} operations, {len(messages)} messages, "
              f"{len(schemas)} schemas consistent; {examples} embedded examples valid", since)
    return by_schema


# ---------------------------------------------------------------------------------------------------
# 3. definitions.json against the document


def topic_matches(binding_key, routing_key):
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    def match(pattern, words):
        if not pattern:
            return not words
        head, rest = pattern[0], pattern[1:]
        if head == "#":
            return any(match(rest, words[i:]) for i in range(len(words) + 1))
        if not words:
            return False
        return (head == "*" or head == words[0]) and match(rest, words[1:])
    return match(binding_key.split("."), routing_key.split("."))


def check_definitions(document, definitions, rules, report):
    since = report.failures
    where = "deploy/rabbitmq/definitions.json"
    channels = document.get("channels") or {}
    servers = document.get("servers") or {}
    vhosts = {((s.get("variables") or {}).get("vhost") or {}).get("default") for s in servers.values()} - {None}
    if len(vhosts) != 1:
        report.fail("docs/asyncapi.yaml servers", f"expected one vhost default across servers, found {sorted(vhosts)}")
    vhost = next(iter(vhosts), "crm")

    # What the document names.
    doc_exchanges, doc_queues, doc_bindings, published = {}, {}, set(), []
    for name, channel in channels.items():
        amqp = (channel.get("bindings") or {}).get("amqp") or {}
        if amqp.get("is") == "queue":
            queue = amqp.get("queue") or {}
            doc_queues[queue.get("name")] = (name, queue)
            for binding in channel.get("x-crm-bindings") or []:
                doc_bindings.add((binding.get("exchange"), queue.get("name"), binding.get("routingKey")))
        elif "exchange" in amqp:
            exchange = amqp["exchange"]
            doc_exchanges.setdefault(exchange.get("name"), []).append((name, exchange))
            addresses = expand_address(channel.get("address"), channel.get("parameters"))
            if addresses is None:
                report.fail(f"channel {name}", "a routing-key channel's parameters need an enum, to check that every key is bound")
            elif channel.get("x-crm-mandatory", True):
                published += [(name, exchange.get("name"), address) for address in addresses]
        else:
            report.fail(f"channel {name}", "has no AMQP binding saying whether it is an exchange or a queue")
        for other in (amqp.get("exchange") or {}, amqp.get("queue") or {}):
            if other and other.get("vhost") != vhost:
                report.fail(f"channel {name}", f"vhost {other.get('vhost')!r}, expected {vhost!r}")

    # What definitions.json declares.
    def_vhosts = {v.get("name") for v in definitions.get("vhosts", [])}
    if vhost not in def_vhosts:
        report.fail(where, f"does not declare the vhost {vhost!r}")
    def_exchanges = {e.get("name"): e for e in definitions.get("exchanges", [])}
    def_queues = {q.get("name"): q for q in definitions.get("queues", [])}
    def_bindings = set()
    for b in definitions.get("bindings", []):
        key = (b.get("source"), b.get("destination"), b.get("routing_key"))
        if key in def_bindings:
            report.fail(where, f"binding {key} declared twice")
        def_bindings.add(key)
        if b.get("destination_type") != "queue" or b.get("arguments") or b.get("vhost") != vhost:
            report.fail(where, f"binding {key}: expected destination_type queue, no arguments, vhost {vhost!r}")
    for kind, items in (("exchange", definitions.get("exchanges", [])), ("queue", definitions.get("queues", []))):
        names = [item.get("name") for item in items]
        for duplicate in sorted({n for n in names if names.count(n) > 1}):
            report.fail(where, f"{kind} {duplicate!r} declared twice")

    # Exchanges: same names, durable topic, as the services declare them.
    for name in sorted(set(doc_exchanges) - set(def_exchanges)):
        report.fail(where, f"exchange {name!r} is in docs/asyncapi.yaml (channel {doc_exchanges[name][0][0]}) but not declared")
    for name in sorted(set(def_exchanges) - set(doc_exchanges)):
        report.fail("docs/asyncapi.yaml", f"exchange {name!r} is declared in definitions.json but no channel names it")
    for name, exchange in def_exchanges.items():
        expected = {"vhost": vhost, "type": "topic", "durable": True, "auto_delete": False, "internal": False}
        wrong = {k: exchange.get(k) for k, v in expected.items() if exchange.get(k) != v}
        if wrong or exchange.get("arguments"):
            report.fail(where, f"exchange {name!r}: {wrong or exchange.get('arguments')}; the services declare durable topic exchanges without arguments")
        for channel, documented in doc_exchanges.get(name, []):
            if documented.get("type") != "topic" or documented.get("durable") is not True or documented.get("autoDelete") is not False:
                report.fail(f"channel {channel}", f"exchange {name!r} must be documented as type topic, durable, not autoDelete")

    # Queues: same names; quorum; dead-letter arguments; companions.
    for name in sorted(set(doc_queues) - set(def_queues)):
        report.fail(where, f"queue {name!r} is in docs/asyncapi.yaml (channel {doc_queues[name][0]}) but not declared")
    for name in sorted(set(def_queues) - set(doc_queues)):
        report.fail("docs/asyncapi.yaml", f"queue {name!r} is declared in definitions.json but no channel names it")
    for name, queue in def_queues.items():
        if queue.get("vhost") != vhost or queue.get("durable") is not True or queue.get("auto_delete") is not False:
            report.fail(where, f"queue {name!r}: expected vhost {vhost!r}, durable, not auto_delete")
        if name.endswith(DEAD_SUFFIX):
            expected = {"x-queue-type": "quorum"}
        else:
            expected = {"x-queue-type": "quorum", "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                        "x-dead-letter-routing-key": name}
            if name + DEAD_SUFFIX not in def_queues:
                report.fail(where, f"queue {name!r} has no dead-letter companion {name + DEAD_SUFFIX!r}")
            if (DEAD_LETTER_EXCHANGE, name + DEAD_SUFFIX, name) not in def_bindings:
                report.fail(where, f"{name + DEAD_SUFFIX!r} is not bound to {DEAD_LETTER_EXCHANGE!r} with routing key {name!r}")
        if queue.get("arguments") != expected:
            report.fail(where, f"queue {name!r} arguments {queue.get('arguments')} differ from what the services declare: {expected}")
        if name.endswith(DEAD_SUFFIX) and name[: -len(DEAD_SUFFIX)] not in def_queues:
            report.fail(where, f"dead-letter queue {name!r} has no source queue")
        if name in doc_queues:
            documented = doc_queues[name][1]
            if documented.get("durable") is not True or documented.get("exclusive") is not False or documented.get("autoDelete") is not False:
                report.fail(f"channel {doc_queues[name][0]}", f"queue {name!r} must be documented durable, not exclusive, not autoDelete")
        if not any(b[1] == name for b in def_bindings):
            report.fail(where, f"queue {name!r} has no binding")

    # Bindings: the same in both.
    for b in sorted(doc_bindings - def_bindings, key=str):
        report.fail(where, f"binding {b[0]} -> {b[1]} ({b[2]}) is in docs/asyncapi.yaml but not declared")
    for b in sorted(def_bindings - doc_bindings, key=str):
        report.fail("docs/asyncapi.yaml", f"binding {b[0]} -> {b[1]} ({b[2]}) is declared but not in any channel's x-crm-bindings")
    for source, _, _ in def_bindings:
        if source not in def_exchanges:
            report.fail(where, f"a binding names the undeclared exchange {source!r}")

    # Every key published (mandatory publishes) reaches a queue.
    for channel, exchange, key in published:
        if not any(src == exchange and topic_matches(bk, key) for src, _, bk in def_bindings):
            report.fail(where, f"routing key {key!r} on {exchange!r} (channel {channel}) reaches no queue: a mandatory publish would be returned")

    # Desks of complaint-rules.json.
    desks = [d.get("name") for d in (rules or {}).get("desks", [])]
    for desk in desks + ["escalations"]:
        if f"desk.{desk}" not in def_queues:
            report.fail(where, f"desk {desk!r} of deploy/complaint-rules.json has no queue 'desk.{desk}'")
    routing = next((c for c in channels.values() if (c.get("address") or "") == "desk.{desk}"), None)
    if routing is not None and desks:
        documented = (routing.get("parameters") or {}).get("desk", {}).get("enum") or []
        if sorted(documented) != sorted(desks):
            report.fail("docs/asyncapi.yaml", f"desk parameter enum {sorted(documented)} differs from deploy/complaint-rules.json desks {sorted(desks)}")
    extra_desks = sorted(q for q in def_queues if q.startswith("desk.") and not q.endswith(DEAD_SUFFIX)
                         and q[5:] not in desks + ["escalations"])
    if extra_desks and desks:
        report.fail(where, f"desk queues {extra_desks} belong to no desk of deploy/complaint-rules.json")

    report.ok(f"definitions.json and asyncapi.yaml agree: {len(def_exchanges)} exchanges, {len(def_queues)} queues, "
              f"{len(def_bindings)} bindings, {len(published)} published routing keys routed, {len(desks)} desks", since)


# ---------------------------------------------------------------------------------------------------
# 4. Example messages


def reject_duplicates(pairs):
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate key {duplicates[0]!r} (the services refuse duplicate keys)")
    return dict(pairs)


def schema_for_file(path, known):
    """The longest known schema name that is the file's stem or a dotted prefix of it."""
    stem = path.name[: -len(".json")]
    candidates = [s for s in known if stem == s or stem.startswith(s + ".")]
    return max(candidates, key=len) if candidates else None


def check_examples(directory, document, registry, by_schema, report):
    directory = Path(directory)
    if not directory.is_dir():
        die(f"--examples {directory}: not a directory")
    groups = [(sorted(directory.glob("*.json")), True), (sorted((directory / "invalid").glob("*.json")), False)]
    if not any(files for files, _ in groups):
        report.fail(str(directory), "no *.json examples found")
        return
    for files, should_pass in groups:
        for path in files:
            where = display(path)
            schema = schema_for_file(path, by_schema)
            if schema is None:
                report.fail(where, f"file name names no known schema; expected <schema>.json with <schema> one of {sorted(by_schema)}")
                continue
            raw = path.read_bytes()
            problems = []
            if len(raw) > MAX_BODY:
                problems.append(f"body: larger than {MAX_BODY} bytes")
            try:
                instance = json.loads(raw.decode("utf-8"), object_pairs_hook=reject_duplicates)
            except (UnicodeDecodeError, ValueError) as error:
                instance = None
                problems.append(f"body: {error}")
            if instance is not None:
                if not isinstance(instance, dict):
                    problems.append("body: expected a JSON object")
                elif instance.get("schema") != schema:
                    problems.append(f"schema: {instance.get('schema')!r} but the file is named for {schema!r}")
                validator = validator_for(registry, f"#/components/messages/{by_schema[schema]}/payload")
                problems += message_errors(validator, instance)
            if should_pass and problems:
                for problem in problems:
                    report.fail(where, problem)
            elif should_pass:
                report.ok(f"{where} is a valid {schema}")
            elif problems:
                report.ok(f"{where} is refused as expected ({problems[0]})")
            else:
                report.fail(where, f"expected to be refused, but it is a valid {schema}")


# ---------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", metavar="DIR", help="directory of example messages named <schema>.json (invalid/ ones must fail)")
    parser.add_argument("--document", default=str(ROOT / "docs" / "asyncapi.yaml"), help="the AsyncAPI document")
    parser.add_argument("--definitions", default=str(ROOT / "deploy" / "rabbitmq" / "definitions.json"))
    parser.add_argument("--rules", default=str(ROOT / "deploy" / "complaint-rules.json"), help="complaint rules (desks)")
    parser.add_argument("--schema", help="the AsyncAPI 3.0.0 JSON Schema (default: shared copy, else docs/)")
    args = parser.parse_args()

    report = Report()
    try:
        with open(args.document, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as error:
        die(f"cannot read {args.document}: {error.strerror}")
    except yaml.YAMLError as error:
        die(f"{args.document} is not YAML: {error}")
    if not isinstance(document, dict):
        die(f"{args.document}: expected a mapping at the top level")

    if args.schema:
        schema_path = Path(args.schema)
    elif SHARED_SCHEMA.is_file():
        schema_path = SHARED_SCHEMA
    elif LOCAL_SCHEMA.is_file():
        schema_path = LOCAL_SCHEMA
    else:
        die(f"AsyncAPI schema not found at {SHARED_SCHEMA} nor {LOCAL_SCHEMA}")
    if schema_path == SHARED_SCHEMA and LOCAL_SCHEMA.is_file() and SHARED_SCHEMA.read_bytes() != LOCAL_SCHEMA.read_bytes():
        report.note(f"note: {display(LOCAL_SCHEMA)} differs from {SHARED_SCHEMA}; refresh the copy")

    check_against_asyncapi_schema(document, schema_path, report)
    check_refs(document, report)
    registry = make_registry(document)
    by_schema = check_consistency(document, registry, report)
    definitions = load_json(args.definitions, "RabbitMQ definitions")
    rules = load_json(args.rules, "complaint rules") if Path(args.rules).is_file() else None
    if rules is None:
        report.note(f"note: {args.rules} not found; desks not checked")
    check_definitions(document, definitions, rules, report)
    if args.examples:
        check_examples(args.examples, document, registry, by_schema, report)

    if report.failures:
        print(f"check-asyncapi: {report.failures} problem(s)")
        return 1
    print("check-asyncapi: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
