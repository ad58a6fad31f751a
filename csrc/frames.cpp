// pandas and polars objects: recognised here, handed to the Python glue in kama/_frames.py,
// which converts them, calls back with an ndarray, and wraps the result. Neither library is
// imported by kama; an ndarray never reaches this file (SPEC §3).
#include <cstring>

#include "common.hpp"

namespace kama {

namespace {
// Whether a module name is `package` or one of its submodules.
bool from_package(const char* module, const char* package) {
    const std::size_t len = std::strlen(package);
    return std::strncmp(module, package, len) == 0 && (module[len] == '\0' || module[len] == '.');
}
}  // namespace

// Whether the class `cls` was defined in pandas or polars.
bool defined_in_frames(PyObject* cls) {
    py_ptr module(PyObject_GetAttrString(cls, "__module__"));
    const char* name = module && PyUnicode_Check(module.get()) ? PyUnicode_AsUTF8AndSize(module.get(), nullptr) : nullptr;
    if (!name) {
        PyErr_Clear();
        return false;
    }
    return from_package(name, "pandas") || from_package(name, "polars");
}

bool is_frame(PyObject* obj) {
    if (PyArray_Check(obj) || PyList_Check(obj) || PyTuple_Check(obj) || PyFloat_Check(obj) || PyLong_Check(obj))
        return false;
    // The type or one of its bases: a user's subclass of pandas.DataFrame is a DataFrame.
    py_ptr mro(PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(obj)), "__mro__"));
    if (!mro || !PyTuple_Check(mro.get())) {
        PyErr_Clear();
        return false;
    }
    for (Py_ssize_t k = 0; k < PyTuple_Size(mro.get()); ++k)
        if (defined_in_frames(PyTuple_GetItem(mro.get(), k))) return true;
    return false;
}

PyObject* call_frames(const char* function, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                      PyObject* kwnames) {
    py_ptr glue(PyImport_ImportModule("kama._frames"));
    py_ptr fn(glue ? PyObject_GetAttrString(glue.get(), function) : nullptr);
    if (!fn) return nullptr;
    const Py_ssize_t lead = self ? 1 : 0;
    py_ptr tuple(PyTuple_New(lead + nargs));
    if (!tuple) return nullptr;
    if (self) {
        Py_INCREF(self);
        PyTuple_SetItem(tuple.get(), 0, self);
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) {
        Py_INCREF(args[i]);
        PyTuple_SetItem(tuple.get(), lead + i, args[i]);
    }
    py_ptr kwargs;
    const Py_ssize_t nkw = kwnames ? PyTuple_Size(kwnames) : 0;
    if (nkw) {
        kwargs.reset(PyDict_New());
        if (!kwargs) return nullptr;
        for (Py_ssize_t k = 0; k < nkw; ++k)
            if (PyDict_SetItem(kwargs.get(), PyTuple_GetItem(kwnames, k), args[nargs + k]) < 0) return nullptr;
    }
    return PyObject_Call(fn.get(), tuple.get(), kwargs.get());
}

}  // namespace kama
