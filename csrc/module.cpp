// The module kama._kama: multi-phase init and the small module-level functions.
#define KAMA_IMPORT_ARRAY
#include "common.hpp"
#include "dispatch.hpp"
#include "kernels/cpu.hpp"

namespace kama {
namespace {

PyObject* py_kernels(PyObject*, PyObject*) {
    py_ptr list(PyList_New(0));
    if (!list) return nullptr;
    for (std::size_t i = 0; i < kernel_count(); ++i) {
        if (!kernel_usable(kernel_at(i))) continue;
        py_ptr name(PyUnicode_FromString(kernel_at(i).name));
        if (!name || PyList_Append(list.get(), name.get()) < 0) return nullptr;
    }
    return list.release();
}

PyObject* py_live_buffers(PyObject*, PyObject*) { return PyLong_FromSsize_t(live_buffers()); }

PyObject* py_finalizing(PyObject*, PyObject*) {
    if (!finalizing_flag) Py_RETURN_NONE;
    return PyBool_FromLong(interpreter_finalizing());
}

// {flag: bool} of this platform's CPU and OS flags (CPUID/XGETBV on x86-64, HWCAP on aarch64).
PyObject* cpu_features_dict() {
    py_ptr dict(PyDict_New());
    if (!dict) return nullptr;
    std::size_t count = 0;
    const cpu_flag_t* flags = cpu_flags(&count);
    for (std::size_t i = 0; i < count; ++i) {
        if (PyDict_SetItemString(dict.get(), flags[i].name, flags[i].have ? Py_True : Py_False) < 0) return nullptr;
    }
    return dict.release();
}

PyMethodDef module_methods[] = {
    {"kama", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_kama)),
     METH_FASTCALL | METH_KEYWORDS, kama_doc},
    {"kama_batch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_kama_batch)),
     METH_FASTCALL | METH_KEYWORDS, kama_batch_doc},
    {"kernels", py_kernels, METH_NOARGS,
     "kernels()\n--\n\nThe kernels usable on this CPU and OS, best last."},
    {"_live_buffers", py_live_buffers, METH_NOARGS,
     "_live_buffers()\n--\n\nResult buffers allocated by kama and not yet freed (for tests)."},
    {"_interpreter_finalizing", py_finalizing, METH_NOARGS,
     "_interpreter_finalizing()\n--\n\nCPython's finalizing flag as kama reads it; None where kama found no "
     "reader (for tests)."},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* module) {
    if (_import_array() < 0) return -1;
    find_finalizing_flag();
    if (!set_default_kernel_from_env()) return -1;
    PyObject* type = make_stream_type(module);
    if (!type) return -1;
    if (PyModule_AddObject(module, "KamaStream", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    PyObject* features = cpu_features_dict();
    if (!features) return -1;
    if (PyModule_AddObject(module, "__cpu_features__", features) < 0) {
        Py_DECREF(features);
        return -1;
    }
    return 0;
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "kama._kama",
    "Native core of kama: KAMA kernels and their CPython bindings.",
    0,
    module_methods,
    module_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace kama

PyMODINIT_FUNC PyInit__kama(void) { return PyModuleDef_Init(&kama::module_def); }
