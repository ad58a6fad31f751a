// The only place NumPy's C headers are included. module.cpp defines KAMA_IMPORT_ARRAY before
// including it and calls import_array(); every other file sees the shared API table.
#pragma once
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_23_API_VERSION
#ifndef NPY_TARGET_VERSION
#define NPY_TARGET_VERSION NPY_1_23_API_VERSION
#endif
#define PY_ARRAY_UNIQUE_SYMBOL kama_ARRAY_API
#ifndef KAMA_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>
