"""The one compiled module, bot/_kernels.c (see its header for why); everything else is in
pyproject.toml. It needs only a C compiler and Python's headers, no numpy at build time."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("bot._kernels", ["bot/_kernels.c"], extra_compile_args=["-O3"])])
