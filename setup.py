# cffi's setuptools hook has no pyproject.toml form; everything else is there.
from setuptools import setup

setup(cffi_modules=["dataplane/build_ffi.py:ffibuilder"])
