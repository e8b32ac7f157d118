"""Peer for `kclrun fn`: the stand-in for krm-kcl (Go, same engine). Reads a ResourceList from stdin with PyYAML's
libyaml loader (CSafeLoader), runs its KCLRun functionConfig (`spec.source`: a .k file or inline code, `spec.params`)
through the official Python binding of the same KCL engine (PyPI kcl-lib) with the `items` / `params` options, and
writes the ResourceList back with libyaml's emitter (CSafeDumper). Usage: python kcl_python_fn.py < rl.yaml"""
import json
import os
import sys

import kcl_lib.api as api
import yaml

rl = yaml.load(sys.stdin.buffer, Loader=yaml.CSafeLoader)
items = rl.get("items") or []
spec = (rl.get("functionConfig") or {}).get("spec") or {}
source = spec.get("source", "")
args = api.ExecProgramArgs(
    args=[
        api.Argument(name="items", value=json.dumps(items)),
        api.Argument(name="params", value=json.dumps(spec.get("params") or {})),
        api.Argument(name="resource_list", value=json.dumps(rl)),
    ],
)
if os.path.isfile(source):
    args.k_filename_list.append(source)
else:
    args.k_filename_list.append("main.k")
    args.k_code_list.append(source)
result = api.API().exec_program(args)
if result.err_message:
    sys.stderr.write(result.err_message)
    sys.exit(1)
out = json.loads(result.json_result) if result.json_result else yaml.load(result.yaml_result, Loader=yaml.CSafeLoader)
rl["items"] = out.get("items", []) if isinstance(out, dict) else out
yaml.dump(rl, sys.stdout, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
