"""Peer for `kclrun render`: the official KCL engine through its official Python binding (PyPI kcl-lib),
rendering the same package files. Usage: python kcl_python_render.py WORK_DIR FILE..."""
import sys

import kcl_lib.api as api

work_dir, files = sys.argv[1], sys.argv[2:]
args = api.ExecProgramArgs(work_dir=work_dir, k_filename_list=files)
result = api.API().exec_program(args)
if result.err_message:
    sys.stderr.write(result.err_message)
    sys.exit(1)
sys.stdout.write(result.yaml_result)
