// A file upload to web's API with progress and cancel (fetch cannot report upload progress; XHR can).

/**
 * @typedef {{ file_id: string, name: string, size: number, content_type: string }} Uploaded
 * @typedef {{ done: Promise<Uploaded>, cancel: () => void }} Upload
 */

/**
 * @param {string} url
 * @param {string} token a REST access token
 * @param {File} file
 * @param {(fraction: number) => void} progress
 * @returns {Upload}
 */
export function upload(url, token, file, progress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) progress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(new Error(xhr.response?.errors?.[0]?.detail ?? `upload refused (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error("the upload failed: no connection"));
    xhr.onabort = () => reject(new Error("cancelled"));
    const body = new FormData();
    body.append("file", file, file.name);
    xhr.send(body);
  });
  return { done: /** @type {Promise<Uploaded>} */ (done), cancel: () => xhr.abort() };
}
