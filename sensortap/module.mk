# sensortap/: the reference client of sensord's socket protocol (debug tap).
# It links only common/.
CPPFLAGS.sensortap := -Icommon -Isensortap
PROGS += sensortap
sensortap_SRCS := sensortap/sensortap.c
sensortap_LIBS := common
sensortap_PKGS := msgpack jansson
