"""Describe the Python interpreter this file runs in, as JSON on stdout.

Run by the doctor inside the *target* interpreter (``python -c <this source>``), so it
must use the standard library only and import nothing of the stack being diagnosed.
``sys.path[0]`` is dropped: under ``-c`` it is the doctor's working directory (for the
doctor's own process, its script folder), which ``vllm serve`` would not see; under
``PYTHONSAFEPATH`` Python adds no such entry, so nothing is dropped.
"""

import json
import os
import platform
import sys
import sysconfig


def first_real_entry() -> int:
    return 0 if getattr(sys.flags, "safe_path", False) else 1


def describe() -> dict:
    implementation = sys.implementation
    version = implementation.version
    implementation_version = f"{version.major}.{version.minor}.{version.micro}"
    if version.releaselevel != "final":
        implementation_version += version.releaselevel[0] + str(version.serial)
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": implementation.name,
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "sys_path": [os.path.abspath(entry) for entry in sys.path[first_real_entry() :] if entry],
        "prefix": sys.prefix,
        # PEP 508 marker variables, as packaging.markers.default_environment() computes them.
        "marker_environment": {
            "implementation_name": implementation.name,
            "implementation_version": implementation_version,
            "os_name": os.name,
            "platform_machine": platform.machine(),
            "platform_release": platform.release(),
            "platform_system": platform.system(),
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform,
        },
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(describe()))
