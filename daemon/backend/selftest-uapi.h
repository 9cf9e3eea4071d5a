/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selftest-uapi.h - the iommufd selftest's IOMMU_TEST_CMD, declared by us */
#pragma once

#include <stdint.h>

#include "kernel-uapi.h"

/*
 * A kernel built with CONFIG_IOMMUFD_TEST answers IOMMU_TEST_CMD on
 * /dev/iommu: it makes mock devices behind a mock IOMMU and lets a test
 * raise page requests on them and look into their page tables. The kernel
 * keeps this ABI in drivers/iommu/iommufd/iommufd_test.h, which is not an
 * installed header; tests/vm/check-uapi.c compares these declarations with
 * that file of the lane's kernel. Only what the selftest backend uses.
 */
enum {
        KTEST_OP_MOCK_DOMAIN = 2,
        KTEST_OP_MD_CHECK_MAP = 3,
        KTEST_OP_MOCK_DOMAIN_REPLACE = 10,
        KTEST_OP_MOCK_DOMAIN_FLAGS = 12,
        KTEST_OP_TRIGGER_IOPF = 15,
        KTEST_OP_PASID_ATTACH = 18,
        KTEST_OP_PASID_DETACH = 20,
        KTEST_OP_PASID_CHECK_HWPT = 21,
};

#define KMOCK_FLAGS_DEVICE_PASID (1u << 2)
/* The mock domain translates IOVAs in [16 MiB, 2 GiB) (its aperture). */
#define KMOCK_APERTURE_START (1ull << 24)
#define KMOCK_APERTURE_LAST ((1ull << 31) - 1)
#define KMOCK_PASID_WIDTH 20

typedef struct IommuTestCmd {
        uint32_t size;
        uint32_t op;
        uint32_t id;
        uint32_t reserved;
        union {
                struct {
                        uint32_t out_stdev_id;
                        uint32_t out_hwpt_id;
                        uint32_t out_idev_id;
                        uint32_t dev_flags;
                } mock_domain_flags;
                struct {
                        uint32_t pt_id;
                } mock_domain_replace;
                struct {
                        uint64_t iova;
                        uint64_t length;
                        uint64_t uptr;
                } check_map;
                struct {
                        uint32_t dev_id;
                        uint32_t pasid;
                        uint32_t grpid;
                        uint32_t perm;
                        uint64_t addr;
                } trigger_iopf;
                struct {
                        uint32_t pasid;
                        uint32_t pt_id;
                } pasid_attach;
                struct {
                        uint32_t pasid;
                } pasid_detach;
                struct {
                        uint32_t pasid;
                        uint32_t hwpt_id;
                } pasid_check;
                uint8_t union_size[48];
        };
        uint32_t last;
} IommuTestCmd;

#define KIOMMU_TEST_CMD KIOMMUFD_CMD(32)
