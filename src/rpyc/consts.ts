// rpyc 5.3's protocol numbers (rpyc/core/consts.py): message types, box labels, handler ids.
export const MSG_REQUEST = 1;
export const MSG_REPLY = 2;
export const MSG_EXCEPTION = 3;

export const LABEL_VALUE = 1;
export const LABEL_TUPLE = 2;
export const LABEL_LOCAL_REF = 3;
export const LABEL_REMOTE_REF = 4;

export const HANDLE_PING = 1;
export const HANDLE_CLOSE = 2;
export const HANDLE_GETROOT = 3;
export const HANDLE_GETATTR = 4;
export const HANDLE_DELATTR = 5;
export const HANDLE_SETATTR = 6;
export const HANDLE_CALL = 7;
export const HANDLE_CALLATTR = 8;
export const HANDLE_REPR = 9;
export const HANDLE_STR = 10;
export const HANDLE_CMP = 11;
export const HANDLE_HASH = 12;
export const HANDLE_DIR = 13;
export const HANDLE_PICKLE = 14;
export const HANDLE_DEL = 15;
export const HANDLE_INSPECT = 16;
export const HANDLE_BUFFITER = 17;
export const HANDLE_OLDSLICING = 18;
export const HANDLE_CTXEXIT = 19;
export const HANDLE_INSTANCECHECK = 20;

/** An exception record that is just this int means StopIteration. */
export const EXC_STOP_ITERATION = 1;

/** The rpyc version our exception records claim: clients warn when the major part is not 5. */
export const RPYC_VERSION = "5.3.0";
