# sensortap: the reference client of sensord's socket protocol (debug tap).
PROGS += sensortap
sensortap_SRCS := sensord/sensortap.c
sensortap_LIBS := common
sensortap_PKGS := msgpack jansson
