/* The Nitro Secure Module client (docs/contract.md §3a): an Attestation request in CBOR, sent
 * through the NSM device's ioctl inside a Nitro Enclave, or, for local development only, over a
 * simulator's Unix socket with each message framed by a 4-byte big-endian length. The answer is
 * read with the strict CBOR reader. */
#define _DEFAULT_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cbor.h"
#include "ec_internal.h"

/* The AWS NSM driver's message: request and response buffers. Its answers are at most 0x3000 bytes. */
#define NSM_RESPONSE_MAX 0x3000
#define NSM_REQUEST_MAX 0x1000
struct nsm_message {
    struct iovec request;
    struct iovec response;
};
#define NSM_IO_REQUEST _IOWR(0x0A, 0, struct nsm_message)

const char *ec_nsm_error_string(int reason) {
    switch (reason) {
    case EC_NSM_OK: return "ok";
    case EC_NSM_UNREACHABLE: return "the NSM device or socket cannot be opened";
    case EC_NSM_IO: return "the exchange with the NSM failed";
    case EC_NSM_REFUSED: return "the NSM answered with an error";
    case EC_NSM_BAD_RESPONSE: return "the NSM's answer is not an attestation document";
    case EC_NSM_TOO_LARGE: return "the document does not fit the buffer";
    case EC_NSM_BAD_ARGUMENT: return "invalid argument";
    default: return "unknown reason";
    }
}

static int fail(int *reason, int code) {
    if (reason != NULL) *reason = code;
    return -1;
}

/* {"Attestation": {"user_data": bstr|null, "nonce": null, "public_key": bstr|null}} */
static size_t put_head(uint8_t *out, unsigned major, size_t value) {
    if (value < 24) {
        out[0] = (uint8_t)(major << 5 | value);
        return 1;
    }
    if (value <= 0xff) {
        out[0] = (uint8_t)(major << 5 | 24);
        out[1] = (uint8_t)value;
        return 2;
    }
    out[0] = (uint8_t)(major << 5 | 25);
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)value;
    return 3;
}

static size_t put_text(uint8_t *out, const char *text) {
    size_t n = strlen(text), head = put_head(out, 3, n);
    memcpy(out + head, text, n);
    return head + n;
}

static size_t put_optional_bytes(uint8_t *out, const uint8_t *data, size_t len) {
    if (data == NULL) {
        out[0] = 0xf6;
        return 1;
    }
    size_t head = put_head(out, 2, len);
    if (len > 0) memcpy(out + head, data, len);
    return head + len;
}

static size_t attestation_request(uint8_t *out, const uint8_t *public_key, size_t pk_len, const uint8_t *user_data, size_t ud_len) {
    size_t n = 0;
    n += put_head(out + n, 5, 1);
    n += put_text(out + n, "Attestation");
    n += put_head(out + n, 5, 3);
    n += put_text(out + n, "user_data");
    n += put_optional_bytes(out + n, user_data, ud_len);
    n += put_text(out + n, "nonce");
    out[n++] = 0xf6;
    n += put_text(out + n, "public_key");
    n += put_optional_bytes(out + n, public_key, pk_len);
    return n;
}

static int text_is(const cbor_item *item, const char *text) {
    return item->type == CBOR_TEXT && item->value == strlen(text) && memcmp(item->data, text, item->value) == 0;
}

/* {"Attestation": {"document": bstr}}: the document's view; {"Error": text}: EC_NSM_REFUSED. */
static int attestation_response(const uint8_t *data, size_t len, ec_view *document) {
    cbor_reader r = cbor_reader_make(data, len);
    cbor_item outer, key, inner, field, value;
    int more;
    uint64_t remaining;
    if (cbor_read(&r, &outer) != 0 || outer.type != CBOR_MAP) return EC_NSM_BAD_RESPONSE;
    remaining = outer.value;
    if (cbor_next_entry(&r, &outer, &remaining, &key, &more) != 0 || !more) return EC_NSM_BAD_RESPONSE;
    if (text_is(&key, "Error")) return EC_NSM_REFUSED;
    if (!text_is(&key, "Attestation") || cbor_read(&r, &inner) != 0 || inner.type != CBOR_MAP) return EC_NSM_BAD_RESPONSE;
    uint64_t inner_remaining = inner.value;
    if (cbor_next_entry(&r, &inner, &inner_remaining, &field, &more) != 0 || !more || !text_is(&field, "document"))
        return EC_NSM_BAD_RESPONSE;
    if (cbor_read(&r, &value) != 0 || value.type != CBOR_BYTES || value.value == 0) return EC_NSM_BAD_RESPONSE;
    if (cbor_next_entry(&r, &inner, &inner_remaining, &field, &more) != 0 || more) return EC_NSM_BAD_RESPONSE;
    if (cbor_next_entry(&r, &outer, &remaining, &key, &more) != 0 || more || r.p != r.end) return EC_NSM_BAD_RESPONSE;
    document->data = value.data;
    document->len = (size_t)value.value;
    return EC_NSM_OK;
}

/* Inside a Nitro Enclave: the driver's ioctl. This path cannot run outside one. */
static int exchange_device(const char *path, const uint8_t *request, size_t request_len, uint8_t *response, size_t *response_len) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return EC_NSM_UNREACHABLE;
    struct nsm_message message = {{(void *)request, request_len}, {response, NSM_RESPONSE_MAX}};
    int rc = ioctl(fd, NSM_IO_REQUEST, &message);
    close(fd);
    if (rc != 0) return EC_NSM_IO;
    *response_len = message.response.iov_len;
    return EC_NSM_OK;
}

static int write_all(int fd, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n, len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n = read(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n, len -= (size_t)n;
    }
    return 0;
}

/* Local development: a simulator's Unix socket, each message framed by its length. */
static int exchange_socket(const char *path, const uint8_t *request, size_t request_len, uint8_t *response, size_t *response_len) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) return EC_NSM_BAD_ARGUMENT;
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return EC_NSM_UNREACHABLE;
    /* A simulator that stops answering must not hold the caller forever. */
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return EC_NSM_UNREACHABLE;
    }
    uint8_t frame[4] = {(uint8_t)(request_len >> 24), (uint8_t)(request_len >> 16), (uint8_t)(request_len >> 8), (uint8_t)request_len};
    int rc = EC_NSM_IO;
    if (write_all(fd, frame, 4) == 0 && write_all(fd, request, request_len) == 0 && read_all(fd, frame, 4) == 0) {
        size_t len = (size_t)frame[0] << 24 | (size_t)frame[1] << 16 | (size_t)frame[2] << 8 | frame[3];
        if (len > NSM_RESPONSE_MAX) rc = EC_NSM_TOO_LARGE;
        else if (read_all(fd, response, len) == 0) {
            *response_len = len;
            rc = EC_NSM_OK;
        }
    }
    close(fd);
    return rc;
}

int ec_nsm_attest(const char *device, const uint8_t *public_key, size_t public_key_len, const uint8_t *user_data,
                  size_t user_data_len, uint8_t *out, size_t out_cap, size_t *out_len, int *reason) {
    if (device == NULL || out == NULL || out_len == NULL || !EC_BUF_OK(public_key, public_key_len) ||
        !EC_BUF_OK(user_data, user_data_len) || public_key_len > EC_NITRO_MAX_PUBLIC_KEY_BYTES ||
        user_data_len > EC_NITRO_MAX_USER_DATA_BYTES)
        return fail(reason, EC_NSM_BAD_ARGUMENT);
    uint8_t request[NSM_REQUEST_MAX];
    size_t request_len = attestation_request(request, public_key, public_key_len, user_data, user_data_len);
    static __thread uint8_t response[NSM_RESPONSE_MAX];
    size_t response_len = 0;
    int rc = strncmp(device, "unix:", 5) == 0 ? exchange_socket(device + 5, request, request_len, response, &response_len)
                                                : exchange_device(device, request, request_len, response, &response_len);
    ec_view document = {NULL, 0};
    if (rc == EC_NSM_OK) rc = attestation_response(response, response_len, &document);
    if (rc == EC_NSM_OK && document.len > out_cap) rc = EC_NSM_TOO_LARGE;
    if (rc != EC_NSM_OK) return fail(reason, rc);
    memcpy(out, document.data, document.len);
    *out_len = document.len;
    if (reason != NULL) *reason = EC_NSM_OK;
    return 0;
}
