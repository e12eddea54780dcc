"""Drives the kernel through Jupyter's own client (jupyter_client) and prints what it saw as JSON.

Used by KernelProtocolTest: python3 protocol_client.py <kernel name>  (JUPYTER_PATH points at the kernelspec).
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel


def run(kc, code, timeout=120, during=None):
    """Executes code; returns the execute reply's content and the iopub messages of that request."""
    msg_id = kc.execute(code)
    if during:
        during()
    iopub = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        iopub.append({"type": msg["msg_type"], "content": msg["content"]})
    return {"reply": shell_reply(kc, msg_id, timeout), "iopub": iopub}


def shell_reply(kc, msg_id, timeout=60):
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


def main():
    km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
    out = {}
    try:
        out["kernel_info"] = kc.kernel_info(reply=True, timeout=60)["content"]
        out["display"] = run(kc, 'String id = display("<b>step 1</b>", "text/html");\n'
                                 'updateDisplay(id, "<b>step 2</b>", "text/html");')
        out["error"] = run(kc, 'throw new IllegalArgumentException("bad row 7");')
        out["after_error"] = run(kc, "6 * 7")
        start = time.time()
        out["interrupt"] = run(kc, "long spins = 0;\nwhile (true) { spins++; }",
                               during=lambda: (time.sleep(2), km.interrupt_kernel()))
        out["interrupt_seconds"] = time.time() - start
        out["after_interrupt"] = run(kc, "40 + 2")
        code = 'String s = "abc";\ns.subs'
        out["complete"] = kc.complete(code, len(code), reply=True, timeout=60)["content"]
        out["inspect"] = kc.inspect("Math.abs(-1)", 6, reply=True, timeout=60)["content"]
        msg_id = kc.is_complete("for (int i = 0; i < 3; i++) {")
        out["is_complete"] = shell_reply(kc, msg_id)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    print(json.dumps(out))


main()
